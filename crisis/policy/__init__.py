"""The social media policy: versioned Markdown, acknowledged by each person for each version."""
