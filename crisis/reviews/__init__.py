"""Post-incident reviews: what happened, what to learn, and who follows up by when."""
