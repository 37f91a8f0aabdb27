/** A value JSON can carry: what `addField` values are made of. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** An IndexedDB key path: one (possibly dotted) path, or a compound list of paths. */
export type KeyPath = string | string[];

/** Runs on every record of the step's store inside the upgrade transaction. Synchronous: it
 * returns the new record, or changes the record in place and returns nothing. */
export type TransformFunction = (record: Record<string, unknown>) => unknown;

export interface CreateStoreStep { op: "createStore"; store: string; keyPath?: KeyPath | null; autoIncrement?: boolean }
export interface DeleteStoreStep { op: "deleteStore"; store: string }
export interface RenameStoreStep { op: "renameStore"; from: string; to: string }
export interface CreateIndexStep { op: "createIndex"; store: string; index: string; keyPath: KeyPath; unique?: boolean; multiEntry?: boolean }
export interface DeleteIndexStep { op: "deleteIndex"; store: string; index: string }
export interface AddFieldStep { op: "addField"; store: string; field: string; value: JsonValue }
export interface RemoveFieldStep { op: "removeField"; store: string; field: string }
export interface RenameFieldStep { op: "renameField"; store: string; from: string; to: string }
/** A transform: a function of the step (`fn`), or one passed in `RewindOptions.transforms`
 * under `name`. A step with a function and no name is named `v<version>.<up|down>[<index>]`. */
export interface TransformStep { op: "transform"; store: string; name?: string; description?: string; fn?: TransformFunction }
/** Moves every record of `store` into a store keyed by `keyPath` (same indexes, same name), in
 * the migration's one upgrade. Every record must hold a valid key there, and no two the same one,
 * or the migration fails with `MigrationFailed` naming the first that does not, and nothing
 * changes. The store must have a key path (in-line keys). Its `down` is the inverse step. */
export interface ChangeKeyStep { op: "changeKey"; store: string; keyPath: KeyPath; autoIncrement?: boolean }

/** One step of a migration, the same JSON shape as in `migrations/*.json`. */
export type Step =
  | CreateStoreStep | DeleteStoreStep | RenameStoreStep | CreateIndexStep | DeleteIndexStep
  | AddFieldStep | RemoveFieldStep | RenameFieldStep | TransformStep | ChangeKeyStep;

/** One schema version: versions are 1, 2, 3… without gaps; no `down` means irreversible. */
export interface Migration { version: number; name: string; up: Step[]; down?: Step[] }

/** Records done of a total, per sweep: a count that starts again is the next sweep (a
 * restore writes the backup's records, then takes its automatic backup; a migration or
 * rollback takes its automatic backup). */
export type ProgressCallback = (done: number, total: number) => void;

export interface RewindOptions {
  /** Automatic (pre-operation) backups kept; manual ones are always kept. Default 5. */
  keepAutomaticBackups?: number;
  /** How long an upgrade waits for other tabs to close the database before `Blocked`. Default 5000. */
  blockTimeoutMs?: number;
  /** Called when an upgrade is blocked by another tab. */
  onBlocked?: () => void;
  /** Transforms by name, for `transform` steps that carry no function. */
  transforms?: Record<string, TransformFunction>;
  /** Automatic backups leave out (and list) records holding a value no backup can carry,
   *  instead of refusing the operation. */
  skipUnsupported?: boolean;
  /** For a database made before the app used Rewind (app stores, no record of Rewind's):
   *  the schema version it already has, or "auto" for the highest whose schema matches
   *  (`Status.matchingVersions`). The first operation that would change it adopts it there
   *  (after an automatic backup; no app store or record changes). Ignored once Rewind
   *  manages the database. Without it, such a database is refused with `Unmanaged`. */
  baseline?: number | "auto";
}

export interface ProgressOptions { onProgress?: ProgressCallback }

export interface OperationOptions extends ProgressOptions {
  /** `false` runs the operation without the automatic backup before it: only by a person's
   *  explicit choice, for a database whose backup will not fit. The journal says so. */
  automaticBackup?: boolean;
}

export interface RollbackOptions extends OperationOptions {
  /** Roll back a database at a version these migrations do not know (changed by a newer
   *  release of the app) with the steps it keeps for those versions, each checked against
   *  the checksum recorded when it was applied: a changed one rejects with `Drift`, one the
   *  database does not keep, without `down`, or with a transform these migrations do not
   *  register with `IrreversibleMigration`; nothing changes then. */
  fromStoredSteps?: boolean;
}

export interface PlanOptions {
  /** The plan `rollbackTo(to, { fromStoredSteps: true })` would run. */
  fromStoredSteps?: boolean;
}

export interface BackupOptions extends ProgressOptions {
  /** Leave out records holding a value no backup can carry (listed in the manifest's
   *  `skipped`) instead of refusing the backup. A restore keeps the live ones. */
  skipUnsupported?: boolean;
  /** Store the backup's chunks compressed (file format 4, the default). `false` writes
   *  format 3, which Rewind builds before compression read; restores read both. */
  compress?: boolean;
  /** Seal (encrypt) the file under this passphrase (format 5: AES-256-GCM, the key derived
   *  with PBKDF2-SHA-256). Without it nobody can open the file, not even you. Not empty. */
  passphrase?: string;
}

/** Options of `Rewind#exportBackup` and `Rewind#inspect`. */
export interface PassphraseOptions {
  /** `exportBackup`: seal the file under this passphrase (a backup sealed already needs its
   *  own, and is exported as it is). `inspect`: the passphrase a sealed backup was made with.
   *  Not empty. */
  passphrase?: string;
}

export interface RestoreOptions extends OperationOptions {
  /** Restore a backup taken of a database with another name. */
  allowOtherDatabase?: boolean;
  /** Cancels the restore until its swap begins: it then rejects with code `Cancelled`, and
   *  the database is as it was. */
  signal?: AbortSignal;
  /** Restore a backup at a schema version newer than these migrations know. */
  allowUnknownVersion?: boolean;
  /** The passphrase a sealed (encrypted) backup was made with: without it a sealed backup
   *  rejects with `PassphraseRequired`, with another with `WrongPassphrase`. Not empty;
   *  ignored for a backup that is not sealed. */
  passphrase?: string;
}

/** Options of `Rewind#diff`. */
export interface DiffOptions {
  /** Called as the backup's records are read: `done` of `total`. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the comparison between batches: it then rejects with code `Cancelled`. */
  signal?: AbortSignal;
  /** The passphrase a sealed (encrypted) backup was made with: without it a sealed backup
   *  rejects with `PassphraseRequired`, with another with `WrongPassphrase`. Not empty;
   *  ignored for a backup that is not sealed. */
  passphrase?: string;
}

export interface AppliedMigration {
  version: number; name: string; checksum: string; appliedAt: number;
  /** The migration as it was applied, kept in the database so that an older release of the
   *  app can undo it (absent in metadata written before Rewind kept it). */
  definition?: Migration;
}
export interface DriftedMigration { version: number; name: string; recorded: string; current: string }
export interface JournalEntry {
  at: number;
  /** "adopt": a database made before the app used Rewind recorded at `to` (no app change). */
  operation: "migrate" | "rollback" | "repair" | "restore" | "adopt";
  from: number;
  to: number;
  /** `null` when it succeeded; why it failed (and changed nothing) otherwise. */
  error: string | null;
  backupId: string | null;
  /** Present (true) when a person chose to run it without the automatic backup before it. */
  withoutBackup?: true;
  /** On a restore that undid an upgrade the browser kept in part (`Status.interrupted`):
   *  that upgrade's entry. */
  undid?: JournalEntry;
}

export interface Status {
  schemaVersion: number;
  latestVersion: number;
  idbVersion: number;
  applied: AppliedMigration[];
  pending: number[];
  drifted: DriftedMigration[];
  /** The database is at a schema version these migrations do not know. */
  unknown: boolean;
  /** Newest first. */
  journal: JournalEntry[];
  /** `false` when the database holds app stores Rewind has no record of (made before the app
   *  used Rewind): operations reject with `Unmanaged` until it is adopted (`baseline`). */
  managed: boolean;
  /** For an unmanaged database, the versions whose schema equals the live one (as `validate`
   *  compares), lowest first; empty otherwise. */
  matchingVersions: number[];
  /** The applied versions whose steps the database keeps, lowest first: when `unknown`,
   *  `rollbackTo(latestVersion, { fromStoredSteps: true })` undoes those above `latestVersion`. */
  storedVersions: number[];
  /** An upgrade that was cut off (its tab closed) yet partly kept by the browser (Firefox
   *  does this): the data is neither before nor after it. The next operation restores the
   *  backup taken before it, then runs; without such a backup every operation but `restore`
   *  rejects with `Interrupted`. `null` otherwise. */
  interrupted: JournalEntry | null;
}

export interface PlannedStep { version: number; migration: string; description: string; step: Step }
export interface PlannedMigration { version: number; name: string; steps: Step[] }
export interface PlanEffects {
  storesCreated: string[];
  storesDeleted: string[];
  /** [from, to] */
  storesRenamed: [string, string][];
  /** [store, index] */
  indexesCreated: [string, string][];
  /** [store, index] */
  indexesDeleted: [string, string][];
  fieldsChanged: string[];
  recordsTouched: Record<string, number>;
  dataDropped: string[];
}
export interface MigrationPlan {
  from: number;
  to: number;
  direction: "up" | "down" | "none";
  /** Every step in the order it runs. */
  steps: PlannedStep[];
  migrations: PlannedMigration[];
  effects: PlanEffects;
  /** The versions whose steps come from the database rather than these migrations. */
  fromDatabase: number[];
}

export interface OperationReport {
  from: number; to: number; backupId: string | null;
  /** How the automatic backup's copy in the backup folder went (only when a folder is set and
   * a backup was taken). A failed copy never fails the operation. */
  folder?: FolderWrite;
}

export type ProblemKind =
  | "missingStore" | "extraStore" | "keyPath" | "autoIncrement" | "missingIndex" | "extraIndex"
  | "indexKeyPath" | "unique" | "multiEntry";
export interface SchemaProblem {
  kind: ProblemKind;
  store: string;
  index: string | null;
  expected: string | null;
  actual: string | null;
  message: string;
}
export interface ValidationResult { ok: boolean; problems: SchemaProblem[] }

/** What a restore would do to one store (`Rewind#diff`). */
export interface StoreChanges {
  store: string;
  /** Records in the backup and not live: the restore brings them back. */
  added: number;
  /** Live records the backup does not have (made since it): the restore removes them. */
  removed: number;
  /** Same key, different value: the restore puts the backup's value back. */
  changed: number;
  unchanged: number;
  /** Whether the backup holds the store (a store only live is deleted by the restore). */
  inBackup: boolean;
  /** Whether the live database holds it (one only in the backup is made again). */
  inLive: boolean;
}
/**
 * What restoring a backup would change (`Rewind#diff`): every store of either side, the
 * schema's differences (`expected` the backup's, `actual` the live database's) and the store
 * changes in sentences ("37 notes created since this backup will be removed"). Values are
 * compared by their encoding; Blobs and Files by type and size, not their bytes.
 */
export interface RestoreDiff { stores: StoreChanges[]; schema: SchemaProblem[]; sentences: string[] }
/** This site's storage (`Rewind.storage()`): bytes used and allowed, and whether it is persistent. */
export interface StorageEstimate { usage: number; quota: number; persisted: boolean }

/** `Rewind.checkMigrations`' options. */
export interface CheckOptions {
  /** Sample records by store name: `{ notes: [{ id: 1, title: "a" }] }`. Each store must be
   *  one the history creates; records are plain JSON (compared as JSON). A store's records
   *  are put in once it exists (before the first migration after the one creating it); a
   *  store without a key path gets keys 1, 2, 3… */
  sample?: Record<string, JsonValue[]>;
  /** Transforms by name, as `Rewind.open` takes them. */
  transforms?: Record<string, TransformFunction>;
}
/** A record as it was before `up` and as it is after `down` (`null`: not there). */
export interface RecordDifference { store: string; key: JsonValue; before: JsonValue | null; after: JsonValue | null }
/** One migration's round trip: `up`, `down`, `up` again. */
export interface RoundTripResult {
  version: number;
  name: string;
  /** `down` gave back the schema and every record there was before `up`, and no step failed. */
  passed: boolean;
  /** No `down`: run up only, not checked. */
  irreversible: boolean;
  /** How the schema after `down` differs from the one before `up`. */
  schemaProblems: SchemaProblem[];
  /** The first record (by store name, then key) that differs after `down`; `null`: none. */
  firstDifference: RecordDifference | null;
  /** The step that failed ("up: …", "down: …", "up again: …"); the check stopped there. */
  error: string | null;
}
export interface RoundTripReport {
  /** Every reversible migration passed and no step failed. */
  passed: boolean;
  migrations: RoundTripResult[];
}

export interface IndexSchema { name: string; keyPath: KeyPath; unique: boolean; multiEntry: boolean }
export interface StoreSchema { name: string; keyPath: KeyPath | null; autoIncrement: boolean; indexes: Record<string, IndexSchema> }
export interface StoreManifest {
  schema: StoreSchema; records: number; bytes: number; sha256: string;
  /** The key the store's generator would give next when the backup was taken (autoIncrement
   * stores; absent when unknown, e.g. in older files); a restore sets the generator back to it. */
  keyGenerator?: number;
}
/** A record a backup left out because it holds a value no backup can carry. */
export interface SkippedRecord {
  store: string;
  /** The key as people read it. */
  key: string;
  /** The key as the backup file encodes it, hex. */
  keyBytes: string;
  /** What could not be carried, e.g. "CryptoKey". */
  type: string;
  /** Where in the record, e.g. ".secret" ("" for the value itself). */
  path: string;
  /** From `inspect()` only: whether restoring the backup now keeps the live record. */
  kept?: boolean;
}
/** What a backup holds. */
export interface Manifest {
  formatVersion: number;
  id: string;
  database: string;
  schemaVersion: number;
  idbVersion: number;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  label: string;
  /** Made by Rewind before an operation rather than asked for. */
  automatic: boolean;
  meta: { schemaVersion: number; applied: AppliedMigration[] };
  stores: StoreManifest[];
  /** Records left out by a backup taken with `skipUnsupported` (absent when none). */
  skipped?: SkippedRecord[];
  /** Taken of a database an upgrade was cut off in (`Status.interrupted`): that upgrade's
   *  entry. Restoring the backup brings the mark back with the half-changed data, so the next
   *  operation undoes it as before (absent otherwise). */
  interrupted?: JournalEntry;
  /** Held in place: the stores a restore replaced, kept under reserved names in the app's own
   *  database rather than copied first (absent otherwise). Exporting or inspecting it makes
   *  it into a file (format 3); until then `bytes` is 0 and its stores' `bytes` and `sha256`
   *  are empty. Restoring it by id copies its stores as they are (no file is made). Deleting
   *  the app's database deletes it too. */
  inPlace?: true;
  /** Size of the file (0 for a backup held in place). */
  bytes: number;
  /** SHA-256 of the whole file, lowercase hex. */
  sha256: string;
  /** A backup kept sealed (encrypted) in the catalog: restoring, exporting or inspecting it
   *  needs its passphrase (absent when not sealed). Its other fields are the backup's inside. */
  sealed?: boolean;
  /** From `backup()` only, when a backup folder is set: how its copy there went. */
  folder?: FolderWrite;
}

// The backup folder (`setBackupFolder`): backups also written to a folder a person chose.

/** `setBackupFolder`'s options. */
export interface BackupFolderOptions {
  /** A schedule while the handle is open: a whole number and s, m, h or d ("30m", "24h",
   * "7d"). None: only automatic and manual backups are written to the folder. */
  every?: string;
  /** Scheduled and automatic backups kept in the folder, 1 to 1000 (7); manual ones stay. */
  keep?: number;
}

/** Where the backup folder stands. `"ok"` only when the browser grants writing now;
 * `"unsupported"`: this browser cannot write files to a folder; `picker`: whether a person can
 * choose one (`showDirectoryPicker`). */
export interface BackupFolder {
  state: "ok" | "needsPermission" | "unsupported" | "notChosen";
  picker: boolean;
  name?: string;
  every?: string;
  keep?: number;
  /** When a backup was last written there (ms since the epoch). */
  lastWritten?: number;
  /** Why the last write failed, until one succeeds. */
  lastError?: string;
}

/** How one backup's copy in the folder went. */
export interface FolderWrite { written: boolean; name?: string; error?: string }

/** One backup the folder's manifest (`rewind-backups.json`) lists. */
export interface FolderBackup {
  /** The file's name in the folder: pass it to `folderBackupFile`. */
  name: string;
  id: string;
  database: string;
  size: number;
  createdAt: number;
  schemaVersion: number;
  reason: "manual" | "automatic" | "scheduled";
  label: string;
  sha256: string;
}

export type ErrorCode =
  | "Blocked" | "CorruptBackup" | "ChecksumMismatch" | "UnsupportedFormat" | "WrongDatabase"
  | "UnknownVersion" | "IrreversibleMigration" | "MigrationFailed" | "QuotaExceeded" | "Drift"
  | "InvalidMigration" | "NoSuchBackup" | "RestoreFailed" | "Storage" | "UnsupportedValue"
  | "InvalidBackup" | "UnreadableFile" | "LostBlob" | "FileTooLarge" | "Cancelled" | "Unmanaged"
  | "Interrupted" | "BaselineMismatch" | "SchemaMismatch" | "PassphraseRequired" | "WrongPassphrase"
  | "InvalidArgument" | "Closed" | "Internal"
  | "FolderPermissionDenied" | "FolderUnavailable" | "NoFolder";

/** What every rejected promise of the API holds. */
export interface RewindError extends Error { name: "RewindError"; code: ErrorCode }
