/*
 * cache.c - block cache: 16 shards, each an LRU list plus a chained hash
 * table under its own mutex; entries are reference counted, so a block in use
 * by an iterator is never freed, only unlinked from the cache. The budget
 * counts block bytes; a held block is charged until it is evicted and freed
 * when the last holder lets go.
 */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

#define NSHARDS 16

typedef struct centry {
  sdb_centry pub;
  uint64_t file, off;
  int refs;      /* holders + 1 while in the cache */
  int in_cache;
  struct centry *hnext, *prev, *next;
} centry;

typedef struct shard {
  pthread_mutex_t mu;
  centry **tab;
  size_t nbuckets, n, usage, cap;
  centry lru; /* sentinel: lru.next = most recent */
  uint64_t hits, misses, evictions;
} shard;

struct sdb_cache {
  shard s[NSHARDS];
};

static uint64_t hash2(uint64_t a, uint64_t b) {
  uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

sdb_cache *sdb__cache_new(size_t bytes) {
  sdb_cache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  for (int i = 0; i < NSHARDS; i++) {
    shard *s = &c->s[i];
    pthread_mutex_init(&s->mu, NULL);
    s->cap = bytes / NSHARDS;
    s->nbuckets = 256;
    s->lru.next = s->lru.prev = &s->lru;
    if (!(s->tab = calloc(s->nbuckets, sizeof *s->tab))) {
      for (int j = 0; j <= i; j++) free(c->s[j].tab), pthread_mutex_destroy(&c->s[j].mu);
      free(c);
      return NULL;
    }
  }
  return c;
}

static void entry_unref(centry *e) {
  if (--e->refs == 0) {
    free((void *)e->pub.data);
    free(e);
  }
}

/* Removes e from hash and LRU (shard lock held). */
static void shard_remove(shard *s, centry *e) {
  centry **pp = &s->tab[hash2(e->file, e->off) % s->nbuckets];
  while (*pp != e) pp = &(*pp)->hnext;
  *pp = e->hnext;
  e->prev->next = e->next;
  e->next->prev = e->prev;
  e->in_cache = 0;
  s->n--;
  s->usage -= e->pub.len;
  entry_unref(e);
}

void sdb__cache_free(sdb_cache *c) {
  if (!c) return;
  for (int i = 0; i < NSHARDS; i++) {
    shard *s = &c->s[i];
    while (s->lru.next != &s->lru) shard_remove(s, s->lru.next);
    free(s->tab);
    pthread_mutex_destroy(&s->mu);
  }
  free(c);
}

static shard *shard_of(sdb_cache *c, uint64_t file, uint64_t off) {
  return &c->s[(hash2(file, off) >> 56) % NSHARDS];
}

static void lru_front(shard *s, centry *e) {
  e->prev = &s->lru;
  e->next = s->lru.next;
  s->lru.next->prev = e;
  s->lru.next = e;
}

sdb_centry *sdb__cache_get(sdb_cache *c, uint64_t file, uint64_t off) {
  shard *s = shard_of(c, file, off);
  centry *e;
  pthread_mutex_lock(&s->mu);
  for (e = s->tab[hash2(file, off) % s->nbuckets]; e && !(e->file == file && e->off == off); e = e->hnext) {
  }
  if (e) {
    e->prev->next = e->next;
    e->next->prev = e->prev;
    lru_front(s, e);
    e->refs++;
    s->hits++;
  } else {
    s->misses++;
  }
  pthread_mutex_unlock(&s->mu);
  return e ? &e->pub : NULL;
}

static void shard_grow(shard *s) {
  size_t nb = s->nbuckets * 2;
  centry **t = calloc(nb, sizeof *t);
  if (!t) return; /* keep the longer chains */
  for (size_t i = 0; i < s->nbuckets; i++)
    for (centry *e = s->tab[i], *nx; e; e = nx) {
      nx = e->hnext;
      size_t b = hash2(e->file, e->off) % nb;
      e->hnext = t[b];
      t[b] = e;
    }
  free(s->tab);
  s->tab = t;
  s->nbuckets = nb;
}

sdb_centry *sdb__cache_put(sdb_cache *c, uint64_t file, uint64_t off, uint8_t *data, size_t len) {
  shard *s = shard_of(c, file, off);
  centry *e = calloc(1, sizeof *e), *old;
  if (!e) {
    free(data);
    return NULL;
  }
  e->pub.data = data;
  e->pub.len = len;
  e->file = file;
  e->off = off;
  e->refs = 1; /* the caller's hold */
  pthread_mutex_lock(&s->mu);
  if (len <= s->cap) {
    for (old = s->tab[hash2(file, off) % s->nbuckets]; old && !(old->file == file && old->off == off);
         old = old->hnext) {
    }
    if (old) shard_remove(s, old); /* a concurrent reader inserted it first */
    e->refs++;
    e->in_cache = 1;
    size_t b = hash2(file, off) % s->nbuckets;
    e->hnext = s->tab[b];
    s->tab[b] = e;
    lru_front(s, e);
    s->n++;
    s->usage += len;
    while (s->usage > s->cap && s->lru.prev != &s->lru && s->lru.prev != e) {
      shard_remove(s, s->lru.prev);
      s->evictions++;
    }
    if (s->n > s->nbuckets) shard_grow(s);
  }
  pthread_mutex_unlock(&s->mu);
  return &e->pub;
}

void sdb__cache_release(sdb_cache *c, sdb_centry *pub) {
  centry *e = (centry *)pub;
  shard *s = shard_of(c, e->file, e->off);
  pthread_mutex_lock(&s->mu);
  entry_unref(e);
  pthread_mutex_unlock(&s->mu);
}

void sdb__cache_forget(sdb_cache *c, uint64_t file) {
  for (int i = 0; i < NSHARDS; i++) {
    shard *s = &c->s[i];
    pthread_mutex_lock(&s->mu);
    for (centry *e = s->lru.next, *nx; e != &s->lru; e = nx) {
      nx = e->next;
      if (e->file == file) shard_remove(s, e);
    }
    pthread_mutex_unlock(&s->mu);
  }
}

void sdb__cache_stats(sdb_cache *c, uint64_t *hits, uint64_t *misses, uint64_t *evictions, size_t *usage,
                      size_t *entries) {
  *hits = *misses = *evictions = 0;
  *usage = *entries = 0;
  for (int i = 0; c && i < NSHARDS; i++) {
    shard *s = &c->s[i];
    pthread_mutex_lock(&s->mu);
    *hits += s->hits, *misses += s->misses, *evictions += s->evictions;
    *usage += s->usage, *entries += s->n;
    pthread_mutex_unlock(&s->mu);
  }
}
