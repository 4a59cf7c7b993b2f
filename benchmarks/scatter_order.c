/*
 * scatter_order.c - does writing the rows of a scatter in destination order
 * pay? A standalone C harness (issue 14, scatter >= 80% of memcpy) that
 * times, interleaved round by round on one thread (CPU time), n rows of
 * row_bytes bytes written to n distinct random rows of a 1 GiB store on
 * transparent huge pages:
 *
 *   memcpy       libc memcpy of the same bytes (the baseline)
 *   nt copy      one contiguous copy with streaming stores
 *   scatter      the engine's kernel as Rows runs it on one thread:
 *                ibmb_scatter_check, then ibmb_scatter_avx2 (streaming)
 *   ascending    the same rows with the ids sorted beforehand, untimed:
 *                the bound any reordering could reach
 *   sort+copy    check, LSD radix sort of (id, position) pairs on the id
 *                bits (timed), then src[pos] -> dst[id] in ascending
 *                destination order, streaming stores, src rows read at
 *                random (prefetched ahead, or not)
 *   block K      as sort+copy within blocks of K consecutive source rows
 *                (the block's source rows stay in the cache)
 *   2-pass       check, src rows copied into per-region buckets of a
 *                staging buffer (sequential reads, 2 MiB regions of dst),
 *                then each bucket written into its region
 *   gather       the read side alone: the same src rows read in random
 *                order into a packed buffer (prefetched as the gather
 *                kernel does)
 *
 * Build and run (from the repository root; x86-64 with AVX2):
 *   gcc -O3 -fno-fast-math -Icsrc -o /tmp/scatter_order benchmarks/scatter_order.c
 *   /tmp/scatter_order ROW_BYTES N [ROUNDS]     e.g. 256 100000 9
 * Prints median GB/s of rows written per variant and its percentage of the
 * memcpy median; results in benchmarks/RESULTS.md ("Row scatter").
 */
#define _GNU_SOURCE
#include "../csrc/scatter.c"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#if !IBMB_ROWS_X86
#error "scatter_order.c needs x86-64 (AVX2)"
#endif

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *huge(int64_t bytes)
{
    void *p = aligned_alloc((size_t)1 << 21, (size_t)((bytes + (1 << 21) - 1) >> 21 << 21));
    if (!p) {
        perror("aligned_alloc");
        exit(1);
    }
    madvise(p, (size_t)bytes, MADV_HUGEPAGE);
    memset(p, 1, (size_t)bytes);
    return p;
}

/* LSD radix sort of keys on bits [lo, hi), 11 bits a pass; returns the
 * buffer (keys or tmp) that holds the result. */
static uint64_t *radix_sort(uint64_t *keys, uint64_t *tmp, int64_t n, int lo, int hi)
{
    static uint32_t cnt[1 << 11];
    for (int b = lo; b < hi; b += 11) {
        const int w = hi - b < 11 ? hi - b : 11;
        const uint64_t m = ((uint64_t)1 << w) - 1;
        memset(cnt, 0, sizeof(uint32_t) << w);
        for (int64_t i = 0; i < n; i++)
            cnt[(keys[i] >> b) & m]++;
        uint32_t s = 0;
        for (uint64_t j = 0; j <= m; j++) {
            const uint32_t c = cnt[j];
            cnt[j] = s;
            s += c;
        }
        for (int64_t i = 0; i < n; i++)
            tmp[cnt[(keys[i] >> b) & m]++] = keys[i];
        uint64_t *t = keys;
        keys = tmp;
        tmp = t;
    }
    return keys;
}

static int bits_of(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

/* One row with streaming stores (row_bytes a multiple of 16, d 16-aligned). */
#define NT_ROW(D, S)                                                         \
    do {                                                                     \
        unsigned char *d = (D);                                              \
        const unsigned char *s = (S);                                        \
        const int64_t len = row_bytes;                                       \
        IBMB_COPY_NT16(__m256i, LD_32, NT_32, 32);                           \
    } while (0)

/* Sort blocks of k source rows by destination and write each block in
 * ascending destination order; k >= n sorts the whole list. pf: prefetch
 * the source rows 16 ahead. */
__attribute__((target("avx2"))) static void sorted_scatter(
    unsigned char *dst, const unsigned char *src, const int64_t *idx, int64_t n,
    int64_t row_bytes, int64_t nrows, int64_t k, int pf, uint64_t *keys, uint64_t *tmp)
{
    const int pb = bits_of((uint64_t)(k < n ? k : n));
    const uint64_t pm = ((uint64_t)1 << pb) - 1;
    for (int64_t lo = 0; lo < n; lo += k) {
        const int64_t m = n - lo < k ? n - lo : k;
        const unsigned char *s0 = src + lo * row_bytes;
        for (int64_t j = 0; j < m; j++)
            keys[j] = (uint64_t)idx[lo + j] << pb | (uint64_t)j;
        const uint64_t *sk = radix_sort(keys, tmp, m, pb, pb + bits_of((uint64_t)nrows));
        for (int64_t i = 0; i < m; i++) {
            if (pf && i + 16 < m)
                prefetch_row(s0 + (sk[i + 16] & pm) * row_bytes, row_bytes);
            NT_ROW(dst + (int64_t)(sk[i] >> pb) * row_bytes, s0 + (sk[i] & pm) * row_bytes);
        }
    }
    _mm_sfence();
}

/* Two passes through a staging buffer: bucket the rows by 2 MiB region of
 * dst (source read in order), then write bucket by bucket. */
__attribute__((target("avx2"))) static void two_pass(
    unsigned char *dst, const unsigned char *src, const int64_t *idx, int64_t n,
    int64_t row_bytes, int64_t nrows, unsigned char *stage, int64_t *sid)
{
    int sh = 0;
    while ((row_bytes << sh) < ((int64_t)2 << 20))
        sh++;
    const int64_t nb = ((nrows - 1) >> sh) + 1;
    int64_t *cnt = calloc((size_t)nb, 8);
    for (int64_t i = 0; i < n; i++)
        cnt[idx[i] >> sh]++;
    int64_t s = 0;
    for (int64_t b = 0; b < nb; b++) {
        const int64_t c = cnt[b];
        cnt[b] = s;
        s += c;
    }
    for (int64_t i = 0; i < n; i++) {
        const int64_t k = cnt[idx[i] >> sh]++;
        sid[k] = idx[i];
        NT_ROW(stage + k * row_bytes, src + i * row_bytes);
    }
    for (int64_t k = 0; k < n; k++)
        NT_ROW(dst + sid[k] * row_bytes, stage + k * row_bytes);
    _mm_sfence();
    free(cnt);
}

__attribute__((target("avx2"))) static void gather_random(
    unsigned char *d, const unsigned char *s, const int64_t *idx, int64_t n, int64_t row_bytes)
{
    IBMB_ROWS(0, copy_ge32_avx2, prefetch_row);
}

__attribute__((target("avx2"))) static void nt_copy(unsigned char *d, const unsigned char *s, int64_t len)
{
    IBMB_COPY_NT16(__m256i, LD_32, NT_32, 32);
    _mm_sfence();
}

enum { MEMCPY, NTCOPY, SCATTER, ASC, SORT_PF, SORT, BLOCK16K, BLOCK64K, TWOPASS, GATHER, NV };
static const char *names[NV] = {"memcpy", "nt copy", "scatter", "ascending (sorted untimed)",
                                "sort+copy, src prefetched", "sort+copy", "block 16384",
                                "block 65536", "2-pass, 2 MiB regions", "gather (read side)"};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROW_BYTES N [ROUNDS]\n", argv[0]);
        return 2;
    }
    const int64_t rb = atoll(argv[1]), n = atoll(argv[2]);
    const int rounds = argc > 3 ? atoi(argv[3]) : 9;
    const int64_t store = (int64_t)1 << 30, nrows = store / rb;
    if (rb < 16 || rb % 16 || n < 1 || n > nrows || rounds < 1 || rounds > 64) {
        fprintf(stderr, "need ROW_BYTES a multiple of 16, 1 <= N <= %lld rows, 1..64 rounds\n",
                (long long)(store / 16));
        return 2;
    }
    unsigned char *dst = huge(store), *src = huge(n * rb), *out = huge(n * rb), *stage = huge(n * rb);
    for (int64_t i = 0; i < n * rb; i++)
        src[i] = (unsigned char)(i * 7 + i / 4093);
    int64_t *perm = malloc((size_t)nrows * 8), *idx = malloc((size_t)n * 8);
    int64_t *up = malloc((size_t)n * 8), *sid = malloc((size_t)n * 8);
    for (int64_t i = 0; i < nrows; i++)
        perm[i] = i;
    for (int64_t i = 0; i < n; i++) {
        const int64_t j = i + (int64_t)(rng() % (uint64_t)(nrows - i));
        const int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    memcpy(idx, perm, (size_t)n * 8);
    memcpy(up, idx, (size_t)n * 8);
    qsort(up, (size_t)n, 8, cmp_i64);
    int64_t *order = malloc((size_t)n * 8); /* random read order for the gather */
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        const int64_t j = (int64_t)(rng() % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    uint64_t *seen = calloc((size_t)(nrows + 63) / 64, 8), *keys = malloc((size_t)n * 8),
             *tmp = malloc((size_t)n * 8);
    double t[NV][64];
    int64_t prev;
    for (int r = 0; r <= rounds; r++) {
        for (int v = 0; v < NV; v++) {
            const int64_t *ids = v == ASC ? up : idx;
            const double t0 = cpu_s();
            if (v >= SCATTER && v != GATHER && ibmb_scatter_check(ids, n, nrows, seen, &prev) != -1)
                abort();
            switch (v) {
            case MEMCPY: memcpy(out, src, (size_t)(n * rb)); break;
            case NTCOPY: nt_copy(out, src, n * rb); break;
            case SCATTER: case ASC: ibmb_scatter_avx2(dst, src, ids, n, rb, 1); break;
            case SORT_PF: sorted_scatter(dst, src, idx, n, rb, nrows, n, 1, keys, tmp); break;
            case SORT: sorted_scatter(dst, src, idx, n, rb, nrows, n, 0, keys, tmp); break;
            case BLOCK16K: sorted_scatter(dst, src, idx, n, rb, nrows, 16384, 1, keys, tmp); break;
            case BLOCK64K: sorted_scatter(dst, src, idx, n, rb, nrows, 65536, 1, keys, tmp); break;
            case TWOPASS: two_pass(dst, src, idx, n, rb, nrows, stage, sid); break;
            case GATHER: gather_random(out, src, order, n, rb); break;
            }
            if (r)
                t[v][r - 1] = cpu_s() - t0;
            if (v >= SORT_PF && v != GATHER) /* spot-check the rows written */
                for (int64_t i = 0; i < n; i += 997)
                    if (memcmp(dst + idx[i] * rb, src + i * rb, (size_t)rb)) {
                        fprintf(stderr, "%s: row %lld wrong\n", names[v], (long long)i);
                        return 1;
                    }
        }
    }
    double load[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("row %lld B, %lld rows, 1 GiB store, %d rounds, CPU time of 1 thread, load %.2f %.2f %.2f\n",
           (long long)rb, (long long)n, rounds, load[0], load[1], load[2]);
    double med[NV];
    for (int v = 0; v < NV; v++) {
        qsort(t[v], (size_t)rounds, 8, cmp_f64);
        med[v] = t[v][rounds / 2];
    }
    for (int v = 0; v < NV; v++)
        printf("  %-28s %6.2f GB/s  %4.0f%% of memcpy\n", names[v], (double)(n * rb) / med[v] / 1e9,
               100 * med[MEMCPY] / med[v]);
    return 0;
}
