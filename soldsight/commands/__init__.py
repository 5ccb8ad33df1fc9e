"""Subcommands of the `soldsight` CLI; each calls plain functions, never Prefect."""
