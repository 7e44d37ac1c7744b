-- 0001: the key-value table behind storage.Backend.
--
-- Keys sort byte-wise (COLLATE "C"), as every coffer backend sorts them;
-- the primary key's btree serves Get, the unique check that tells a
-- concurrent creator apart, and List's ordered range scans. Values are
-- opaque bytes (ciphertext written by the sealed decorator).
--
-- fillfactor 50 leaves room in each heap page for the new version of an
-- updated row, so that updates are HOT (no new index entry). That matters
-- under SERIALIZABLE: a non-HOT update inserts into the btree leaf page
-- that concurrent readers of neighbouring keys hold predicate locks on,
-- and SSI then aborts one of them although they touched different keys.
-- Measured with 32 writers doing read-modify-write over 1,000 adjacent
-- keys of 1 KiB: 2.0 runs of each transaction at fillfactor 100, 1.7 at
-- 80, 1.0 at 50, with three times the throughput. Secret stores are small;
-- the doubled table size is the cheaper side of the trade.
CREATE TABLE kv (
    key   text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL
) WITH (fillfactor = 50);
