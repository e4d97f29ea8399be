"""The Agrippa language server."""
