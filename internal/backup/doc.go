// Package backup makes, lists, prunes and restores encrypted backups of
// an installation.
//
// A backup has an id YYYYMMDDTHHMMSS.mmmZ-xxxxxx (the UTC creation time to
// the millisecond and six random lowercase hex digits; ids of the first
// form, YYYYMMDDTHHMMSSZ-xxxxxx, are still read): the time is readable
// without any key, and backups are ordered by it, then by id, so two made
// in one second by two processes order as they were made. A backup whose
// id is more than FutureSkew (10 minutes) ahead of the clock is listed as
// Future and never taken for the newest. On a target (a directory or an
// S3 bucket) a backup is a folder of objects:
//
//	<id>/database.sqlite.age            SQLite snapshot (every page, read in one transaction), or
//	<id>/database.pgdump.age            pg_dump --format=custom of the schema(s)
//	<id>/files.tar.age                  every object of the file store, as stored (already encrypted)
//	<id>/erasures.jsonl.age             the erasure ledger (empty if none)
//	<id>/audit-checkpoints.jsonl.age    the signed audit checkpoints (empty if none)
//	<id>/manifest.json.age              written last: its presence makes the backup complete
//	<id>/verified.json                  plaintext, optional: the newest verify result
//
// Every .age object is encrypted with age (binary format) to all the
// configured recipients; the manifest records each part's plaintext and
// stored size and SHA-256, so a restore detects truncation or change
// before it installs anything. The master key, the audit signing key and
// the age identities are never part of a backup: keep them apart from it.
//
// A backup without a manifest is incomplete (a killed or failed create);
// retention deletes such leftovers after a day and never deletes the
// newest complete backup.
package backup
