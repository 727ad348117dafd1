"""Training: courses as code (`training/*.yaml`), completions that expire, reminders."""
