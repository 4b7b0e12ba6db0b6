"""What a user reads: schedule files, explained races, the execution graph and its
HTML page, the text and JSON report."""
