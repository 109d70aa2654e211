"""comic_emotion.leaderboard"""
