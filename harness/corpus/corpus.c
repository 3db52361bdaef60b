/*
 * corpus.c - the broken-engine corpus (docs/corpus.md): test-only in-process targets,
 * each a classic crash-consistency bug (`corpus-X`) and its correct twin (`corpus-X-fixed`)
 * that differs only in the fix. Engines: logkv.c, tablekv.c, seglog.c on the ckv.c skeleton.
 */
#include "ckv.h"

#define PAIR(v) extern const pc_target v##_bug, v##_fixed;
PAIR(pc_corpus_wal_nofsync)
PAIR(pc_corpus_newfile_nodirsync)
PAIR(pc_corpus_rename_unsynced_tmp)
PAIR(pc_corpus_rename_nodirsync)
PAIR(pc_corpus_log_deleted_early)
PAIR(pc_corpus_crc_header_only)
PAIR(pc_corpus_eio_retry)
PAIR(pc_corpus_torn_record)
PAIR(pc_corpus_batch_nocommit)
PAIR(pc_corpus_recovery_log_early)
#undef PAIR

#define BOTH(v) &v##_bug, &v##_fixed,
const pc_target *const pc_corpus_targets[] = {
  BOTH(pc_corpus_wal_nofsync)          /* 1 */
  BOTH(pc_corpus_newfile_nodirsync)    /* 2 */
  BOTH(pc_corpus_rename_unsynced_tmp)  /* 3 */
  BOTH(pc_corpus_rename_nodirsync)     /* 4 */
  BOTH(pc_corpus_log_deleted_early)    /* 5 */
  BOTH(pc_corpus_crc_header_only)      /* 6 */
  BOTH(pc_corpus_eio_retry)            /* 7 */
  BOTH(pc_corpus_torn_record)          /* 8 */
  BOTH(pc_corpus_batch_nocommit)       /* 9 */
  BOTH(pc_corpus_recovery_log_early)   /* 10 */
  NULL,
};
