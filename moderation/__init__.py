"""Comment moderation service for news publishers."""
