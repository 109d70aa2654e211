"""comic_emotion.metrics"""
