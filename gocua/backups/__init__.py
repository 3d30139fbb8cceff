"""Backups and restores of GõCửa's database: the embedded SQLite file copied online by
`gocua backup` and put back by `gocua restore`; PostgreSQL's are pgBackRest's (docs/backups.md).

The top layer: it may read every app, and no app imports it."""
