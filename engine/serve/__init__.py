"""Decisions for online systems, and their audit trail (issue 22): the audit store with its
chain of hashes (``audit``) and the replay of recorded decisions (``replay``)."""
