"""comic_emotion.perturbations"""
