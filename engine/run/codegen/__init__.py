"""The generated decision functions: a checked ruleset becomes Python that decides."""
