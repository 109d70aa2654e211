"""comic_emotion.baselines"""
