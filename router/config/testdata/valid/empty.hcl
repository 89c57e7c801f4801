# An empty config is valid: every setting takes its default.
