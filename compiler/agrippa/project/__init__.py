"""Projects: `agrippa.toml`, the index file, and reading the user's files."""
