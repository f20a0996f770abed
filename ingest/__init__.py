"""The application: fetching, parsing, extraction, the pipeline, the daemon and the CLI."""
