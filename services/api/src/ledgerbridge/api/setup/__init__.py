"""The guided 10-step setup (SPEC.md §1, §4): which steps are done and what each still lacks."""
