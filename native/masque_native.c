/*
 * masque native accelerator (issue 13): reusable OpenSSL EVP contexts for the QUIC packet hot
 * path. node:crypto has no reusable AES-GCM context, so the pure-JS path pays a new Cipheriv
 * (about 3 us) per packet; here a context is created once and each packet only re-inits it
 * with its nonce (and with its key when another key ran last, see below). Plain N-API (ABI-stable: one build loads in every Node with N-API 8), and
 * the OpenSSL that Node itself links (its headers ship in include/node/openssl, its symbols are
 * exported by the node binary), so nothing else is linked.
 *
 * Exports:
 *   new Aead(suite, key[, iv])                suite 0x1301 AES-128-GCM, 0x1302 AES-256-GCM,
 *                                             0x1303 ChaCha20-Poly1305 (RFC 9001 §5.3); iv, 12
 *                                             bytes, is the packet IV sealPacket/openPacket need
 *     .sealInto(nonce, aad, input, out, outOffset) -> input.length + 16
 *     .openInto(nonce, aad, input, out, outOffset) -> input.length - 16, or -1 when the tag does
 *                                             not verify (then `out` is left untouched)
 *     .sealPacket(packet, pnOffset, pnLength, pn, payloadLength, hp) -> the packet's end: writes
 *                                             the pn length bits and the truncated pn, seals the
 *                                             payload in place and applies header protection with
 *                                             `hp` (a HeaderProtection of the same suite), in one
 *                                             call (see packet_seal)
 *     .openPacket(packet, pnOffset, pnLength, pn) -> the plaintext length, or -1 when the tag
 *                                             does not verify (packet untouched): the payload of a
 *                                             packet whose header protection is removed, opened in
 *                                             place (see packet_open)
 *   new HeaderProtection(suite, hpKey)        RFC 9001 §5.4.3 (AES-ECB) / §5.4.4 (ChaCha20)
 *     .mask(buf, sampleOffset, out, outOffset) writes the 5-byte mask of buf[sampleOffset..+16]
 *   new Scramble(key)                         draft-ietf-masque-quic-proxy scramble-dt (k1 = key[0..16]
 *                                             AES-128-CTR, k2 = key[16..32] AES-128-ECB on the IV)
 *     .apply(decode, packet, cidLength, out)  encodes (decode false) or decodes packet into out
 *                                             (the same view, or one that does not overlap it)
 *   sockaddr(host, port)                      Linux only (absent elsewhere, as the next three):
 *                                             the struct sockaddr of an IP literal, as bytes
 *   send(fd, data, offset, length, address)   one sendto(2), to a sockaddr() or (null) the
 *                                             connected peer; returns bytes sent or -errno
 *   sendmmsg(fd, datagrams, addresses, start, count, gso)   sends datagrams[start..count) (at
 *                                             most 64) in one system call, runs to one peer as
 *                                             one segmented message with gso (UDP_SEGMENT);
 *                                             returns how many left, or -errno when the first
 *                                             message failed
 *   recvmmsg(fd, buffer, slotSize, meta, max) reads up to max queued datagrams in one system
 *                                             call (the rest of a node:dgram socket's queue)
 *   attachReuseportCbpf(fd, program)          Linux only: attaches a classic BPF program
 *                                             (struct sock_filter[] as bytes, in host order) to
 *                                             the SO_REUSEPORT group of a UDP socket's fd with
 *                                             SO_ATTACH_REUSEPORT_CBPF; returns 0 or -errno
 *   openssl                                   the OpenSSL version string
 *
 * Contexts are shared (issue 10): each Aead and HeaderProtection object holds only its key, and
 * one OpenSSL context per algorithm and direction (per environment: main thread or worker) runs
 * every key of that kind, re-keyed when the key differs from the one it last ran. An idle QUIC
 * connection then holds no OpenSSL state at all (its two AEAD and two header protection
 * contexts were ~3.9 KiB of C heap); a busy one keeps its schedules in the shared contexts
 * between its packets, and keys that alternate pay a re-key (AES-128-GCM ~140 ns, AES-ECB
 * ~85 ns on the dev VM) instead. A context still holding the schedule of a key that is freed
 * (its object collected) is freed too, which cleanses it.
 *
 * Every argument is checked (type, lengths, offsets) and a bad one throws a TypeError or
 * RangeError; nothing here may crash the process on bad input. Per call there is no allocation
 * beyond what N-API does, except openInto of a ciphertext above SCRATCH_SIZE (never a QUIC
 * packet: a UDP payload is at most 65,527 bytes), which uses a temporary heap buffer.
 */
#ifdef __linux__
#define _GNU_SOURCE /* sendmmsg(2) */
#endif
#define NAPI_VERSION 8
#include <node_api.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <net/if.h>
#include <sys/socket.h>
#endif

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define TAG_LEN 16
#define NONCE_LEN 12
#define SAMPLE_LEN 16
#define MASK_LEN 5
/* Opened plaintext goes here first, so a forged packet never reaches the caller's bytes. */
#define SCRATCH_SIZE 65536
/* Largest input EVP's int lengths take with the tag added. */
#define MAX_AEAD_INPUT (INT_MAX - TAG_LEN)

#define SUITE_AES_128_GCM 0x1301
#define SUITE_AES_256_GCM 0x1302
#define SUITE_CHACHA20_POLY1305 0x1303

/* Rough C heap held by one key object (the struct and its wrap), reported to V8 so GC sees
   it; the OpenSSL contexts are shared (see the header). */
#define KEY_EXTERNAL_BYTES 128

/* Suite indexes of the shared contexts. */
#define KIND_AES_128 0
#define KIND_AES_256 1
#define KIND_CHACHA20 2
#define KINDS 3

/* A packet key or header-protection key: `id` names it to the shared contexts (never reused,
   so a context never mistakes a new key at a freed key's address for the one it holds). */
typedef struct {
  uint64_t id;
  int kind;
  int has_iv;
  uint8_t key[32];
  uint8_t iv[NONCE_LEN]; /* an Aead's packet IV (RFC 9001 §5.3), when has_iv */
} Key;

typedef Key Aead;
typedef Key HeaderProtection;

/* One shared OpenSSL context and the id of the key whose schedule it holds (0: none). */
typedef struct {
  EVP_CIPHER_CTX *ctx;
  uint64_t key_id;
} SharedCtx;

typedef struct {
  EVP_CIPHER_CTX *ctr;    /* AES-128-CTR with k1, re-initialised with each packet's IV */
  EVP_CIPHER_CTX *k2_enc; /* AES-128-ECB with k2, encrypting the IV (encode) */
  EVP_CIPHER_CTX *k2_dec; /* AES-128-ECB with k2, decrypting it (decode) */
} Scramble;

/* Per environment (main thread or worker): the open scratch buffer and the shared contexts. */
typedef struct {
  uint8_t *scratch;
  SharedCtx aead[KINDS][2]; /* [kind][encrypt]: open, seal */
  SharedCtx hp[KINDS];
  uint64_t next_id;
} Instance;

/* A valid pointer for zero-length inputs (a detached or empty view may report NULL). */
static const uint8_t EMPTY[1] = {0};
static const uint8_t ZEROS[MASK_LEN] = {0};

/* The type tag (N-API 8) of HeaderProtection objects. sealPacket takes one as an argument and
   checks the tag before unwrapping, so that another object (an Aead, a Scramble, anything
   wrapped by another addon) throws a TypeError instead of being read as the wrong struct. A
   method's receiver needs no tag: V8 refuses to call a class's method on an object its
   constructor did not make ("Illegal invocation"). */
static const napi_type_tag HP_TYPE_TAG = {0x6d61737175650a02ULL, 0x3c9e51d2a7f0846bULL};

/* ---------------------------------------------------------------- argument helpers */

static int throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return 0;
}

static int throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return 0;
}

static napi_value throw_openssl(napi_env env, const char *what) {
  ERR_clear_error(); /* leave nothing in the queue node:crypto shares */
  napi_throw_error(env, "ERR_MASQUE_NATIVE", what);
  return NULL;
}

/* A Uint8Array (or Buffer) view: pointer to its first byte and its length. */
static int get_bytes(napi_env env, napi_value v, const char *msg, uint8_t **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return throw_type(env, msg);
  napi_typedarray_type type;
  void *ptr = NULL;
  size_t length = 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    return throw_type(env, msg);
  }
  *data = (ptr == NULL || length == 0) ? (uint8_t *)EMPTY : (uint8_t *)ptr;
  *len = ptr == NULL ? 0 : length;
  return 1;
}

/* A non-negative integer offset no larger than `max`. */
static int get_offset(napi_env env, napi_value v, const char *msg, size_t max, size_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return throw_type(env, msg);
  if (napi_get_value_double(env, v, &d) != napi_ok) return throw_type(env, msg);
  /* NaN fails every comparison, so it lands here too. */
  if (!(d >= 0 && d <= (double)max) || d != (double)(size_t)d) return throw_range(env, msg);
  *out = (size_t)d;
  return 1;
}

static Instance *get_instance(napi_env env) {
  Instance *inst = NULL;
  if (napi_get_instance_data(env, (void **)&inst) != napi_ok) return NULL;
  return inst;
}

static int suite_kind(int32_t suite) {
  return suite == SUITE_AES_128_GCM   ? KIND_AES_128
         : suite == SUITE_AES_256_GCM ? KIND_AES_256
                                      : KIND_CHACHA20;
}

static const EVP_CIPHER *aead_cipher(int kind) {
  return kind == KIND_AES_128   ? EVP_aes_128_gcm()
         : kind == KIND_AES_256 ? EVP_aes_256_gcm()
                                : EVP_chacha20_poly1305();
}

/* RFC 9001 §5.4.3: AES-ECB with the hp key of the AEAD's size; §5.4.4: ChaCha20, 32 bytes. */
static const EVP_CIPHER *hp_cipher(int kind) {
  return kind == KIND_AES_128   ? EVP_aes_128_ecb()
         : kind == KIND_AES_256 ? EVP_aes_256_ecb()
                                : EVP_chacha20();
}

static void shared_free(SharedCtx *s) {
  EVP_CIPHER_CTX_free(s->ctx); /* cleanses the key schedule */
  s->ctx = NULL;
  s->key_id = 0;
}

/*
 * The shared context `s` of `cipher`, holding the schedule of key `id` (`key`): made on first
 * use (`setup` then adds what every key of it shares), re-keyed when it last ran another key.
 * NULL, OpenSSL's error queue cleared, when it cannot be made or keyed.
 */
static EVP_CIPHER_CTX *shared_ctx(SharedCtx *s, const EVP_CIPHER *cipher, int encrypt,
                                  uint64_t id, const uint8_t *key, int aead) {
  if (s->ctx == NULL) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    /* AEAD: the 12-byte IV length (RFC 9001 §5.3: the nonce is the IV's length; also the
       default of all three). AES-ECB: padding off, so each 16-byte update yields its block. */
    if (ctx == NULL || EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, encrypt) != 1 ||
        (aead && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1) ||
        (!aead && EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)) {
      EVP_CIPHER_CTX_free(ctx);
      ERR_clear_error();
      return NULL;
    }
    s->ctx = ctx;
    s->key_id = 0;
  }
  if (s->key_id != id) {
    if (EVP_CipherInit_ex(s->ctx, NULL, NULL, key, NULL, encrypt) != 1) {
      s->key_id = 0;
      ERR_clear_error();
      return NULL;
    }
    s->key_id = id;
  }
  return s->ctx;
}

static int get_suite(napi_env env, napi_value v, int32_t *suite) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number ||
      napi_get_value_int32(env, v, suite) != napi_ok) {
    return throw_type(env, "suite must be a number");
  }
  if (*suite != SUITE_AES_128_GCM && *suite != SUITE_AES_256_GCM &&
      *suite != SUITE_CHACHA20_POLY1305) {
    return throw_range(env, "unsupported cipher suite");
  }
  return 1;
}

static int is_construct_call(napi_env env, napi_callback_info info) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "constructor needs `new`");
    return 0;
  }
  return 1;
}

/* ---------------------------------------------------------------- AEAD */

static void key_free(Key *k) {
  OPENSSL_cleanse(k, sizeof *k); /* the key and the IV */
  free(k);
}

/* A shared context still holding the schedule of a key being freed is freed with it (which
   cleanses it), so no key schedule outlives its key object; the next key makes a new one. Wrap
   finalizers run before the instance's own at teardown, so the instance is there. */
static void forget_key(SharedCtx *s, uint64_t id) {
  if (s->ctx != NULL && s->key_id == id) shared_free(s);
}

static void aead_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Key *k = (Key *)data;
  Instance *inst = get_instance(env);
  if (inst != NULL) {
    forget_key(&inst->aead[k->kind][0], k->id);
    forget_key(&inst->aead[k->kind][1], k->id);
  }
  key_free(k);
  int64_t ignored;
  napi_adjust_external_memory(env, -KEY_EXTERNAL_BYTES, &ignored);
}

static void hp_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Key *k = (Key *)data;
  Instance *inst = get_instance(env);
  if (inst != NULL) forget_key(&inst->hp[k->kind], k->id);
  key_free(k);
  int64_t ignored;
  napi_adjust_external_memory(env, -KEY_EXTERNAL_BYTES, &ignored);
}

/*
 * `new Aead(suite, key[, iv])` / `new HeaderProtection(suite, hpKey)`: the suite and the key's
 * length for `cipher_of` checked, the key (and with `takes_iv` an optional 12-byte IV) copied
 * into a new Key wrapped in `this`, which is tagged with `tag` unless it is NULL.
 */
static napi_value key_new(napi_env env, napi_callback_info info,
                          const EVP_CIPHER *(*cipher_of)(int kind), const char *key_msg,
                          const char *length_msg, napi_finalize finalize,
                          const napi_type_tag *tag, int takes_iv) {
  if (!is_construct_call(env, info)) return NULL;
  size_t argc = 3;
  napi_value argv[3], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  int32_t suite;
  uint8_t *key, *iv = NULL;
  size_t key_len, iv_len = 0;
  if (!get_suite(env, argv[0], &suite)) return NULL;
  if (!get_bytes(env, argv[1], key_msg, &key, &key_len)) return NULL;
  int kind = suite_kind(suite);
  if (key_len != (size_t)EVP_CIPHER_key_length(cipher_of(kind))) {
    throw_range(env, length_msg);
    return NULL;
  }
  if (takes_iv && argc >= 3) {
    napi_valuetype t;
    if (napi_typeof(env, argv[2], &t) != napi_ok) return NULL;
    if (t != napi_undefined) {
      if (!get_bytes(env, argv[2], "iv must be a Uint8Array", &iv, &iv_len)) return NULL;
      if (iv_len != NONCE_LEN) {
        throw_range(env, "iv must be 12 bytes");
        return NULL;
      }
    }
  }
  Instance *inst = get_instance(env);
  if (inst == NULL) return throw_openssl(env, "addon not initialised");
  if (tag != NULL && napi_type_tag_object(env, self, tag) != napi_ok) return NULL;
  Key *k = calloc(1, sizeof(Key));
  if (k == NULL) return throw_openssl(env, "out of memory");
  k->id = ++inst->next_id;
  k->kind = kind;
  memcpy(k->key, key, key_len);
  if (iv != NULL) {
    memcpy(k->iv, iv, NONCE_LEN);
    k->has_iv = 1;
  }
  if (napi_wrap(env, self, k, finalize, NULL, NULL) != napi_ok) {
    key_free(k);
    return NULL;
  }
  int64_t ignored;
  napi_adjust_external_memory(env, KEY_EXTERNAL_BYTES, &ignored);
  return self;
}

static napi_value aead_new(napi_env env, napi_callback_info info) {
  return key_new(env, info, aead_cipher, "key must be a Uint8Array",
                 "key length does not match the suite", aead_finalize, NULL, 1);
}

/* The shared context of `a`'s suite and direction, keyed with `a`; packets then only set the
   IV (RFC 9001 §5.3). NULL (OpenSSL's error queue cleared) if it cannot be made. */
static EVP_CIPHER_CTX *aead_ctx(Instance *inst, Aead *a, int encrypt) {
  return shared_ctx(&inst->aead[a->kind][encrypt], aead_cipher(a->kind), encrypt, a->id, a->key,
                    1);
}

/* The five arguments common to sealInto and openInto, checked. */
typedef struct {
  Instance *inst;
  Aead *aead;
  uint8_t *nonce, *aad, *in, *out;
  size_t nonce_len, aad_len, in_len, out_len, out_offset;
} AeadCall;

static int aead_args(napi_env env, napi_callback_info info, AeadCall *c) {
  size_t argc = 5;
  napi_value argv[5], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return 0;
  void *wrapped = NULL;
  if (napi_unwrap(env, self, &wrapped) != napi_ok || wrapped == NULL) {
    return throw_type(env, "not an Aead");
  }
  c->aead = (Aead *)wrapped;
  c->inst = get_instance(env);
  if (c->inst == NULL) {
    throw_openssl(env, "addon not initialised");
    return 0;
  }
  if (!get_bytes(env, argv[0], "nonce must be a Uint8Array", &c->nonce, &c->nonce_len) ||
      !get_bytes(env, argv[1], "aad must be a Uint8Array", &c->aad, &c->aad_len) ||
      !get_bytes(env, argv[2], "input must be a Uint8Array", &c->in, &c->in_len) ||
      !get_bytes(env, argv[3], "out must be a Uint8Array", &c->out, &c->out_len) ||
      !get_offset(env, argv[4], "outOffset must be an integer within out", c->out_len,
                  &c->out_offset)) {
    return 0;
  }
  if (c->nonce_len != NONCE_LEN) return throw_range(env, "nonce must be 12 bytes");
  if (c->aad_len > INT_MAX) return throw_range(env, "aad too long");
  if (c->in_len > MAX_AEAD_INPUT) return throw_range(env, "input too long");
  return 1;
}

/*
 * Seals in[0, len) with `nonce` and the AAD into dst as ciphertext | tag. The AAD is absorbed
 * before anything is written, so it may overlap dst (the packet's header before its payload).
 * NULL, or what failed (OpenSSL's error queue is then for throw_openssl to clear).
 */
static const char *aead_seal_to(EVP_CIPHER_CTX *ctx, const uint8_t *nonce, const uint8_t *aad,
                                size_t aad_len, const uint8_t *in, size_t len, uint8_t *dst) {
  int n = 0, fin = 0;
  /* Per packet only the nonce changes (RFC 9001 §5.3); the key schedule stays. */
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
      (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)) {
    return "AEAD seal failed";
  }
  /* EVP encrypts in place only when input and output coincide exactly; memmove handles any
     other overlap (and is skipped for the in-place packet path). */
  if (dst != in && len > 0) memmove(dst, in, len);
  if ((len > 0 && EVP_EncryptUpdate(ctx, dst, &n, dst, (int)len) != 1) ||
      EVP_EncryptFinal_ex(ctx, dst + n, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, dst + len) != 1) {
    return "AEAD seal failed";
  }
  return NULL;
}

/* What aead_open_to returns besides 1 (opened) and 0 (the tag did not verify). */
#define OPEN_OPENSSL_ERROR (-1)
#define OPEN_NO_MEMORY (-2)

/*
 * Opens `in` (pt_len bytes of ciphertext, then the tag) with `nonce` and the AAD into `out`,
 * which may alias `in` or the AAD: the plaintext goes to the instance's scratch buffer first and
 * reaches `out` only once the tag verifies, so on failure `out` is untouched. RFC 9001 §5.3:
 * AEAD_* decryption outputs either the plaintext or an error, never both.
 */
static int aead_open_to(Instance *inst, EVP_CIPHER_CTX *ctx, const uint8_t *nonce,
                        const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t pt_len,
                        uint8_t *out) {
  uint8_t *plain;
  if (pt_len <= SCRATCH_SIZE) {
    if (inst->scratch == NULL && (inst->scratch = malloc(SCRATCH_SIZE)) == NULL) {
      return OPEN_NO_MEMORY;
    }
    plain = inst->scratch;
  } else if ((plain = malloc(pt_len)) == NULL) {
    return OPEN_NO_MEMORY;
  }
  uint8_t tag[TAG_LEN];
  memcpy(tag, in + pt_len, TAG_LEN);
  int n = 0, fin = 0, result;
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
      (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1 ||
      (pt_len > 0 && EVP_DecryptUpdate(ctx, plain, &n, in, (int)pt_len) != 1)) {
    result = OPEN_OPENSSL_ERROR;
  } else if (EVP_DecryptFinal_ex(ctx, plain + n, &fin) == 1) {
    memcpy(out, plain, pt_len);
    result = 1;
  } else {
    ERR_clear_error();
    result = 0;
  }
  if (plain != inst->scratch) free(plain);
  return result;
}

static napi_value aead_seal_into(napi_env env, napi_callback_info info) {
  AeadCall c;
  if (!aead_args(env, info, &c)) return NULL;
  if (c.in_len + TAG_LEN > c.out_len - c.out_offset) {
    throw_range(env, "out has no room for input + 16 bytes at outOffset");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = aead_ctx(c.inst, c.aead, 1);
  if (ctx == NULL) return throw_openssl(env, "could not create the AEAD context");
  const char *failed =
      aead_seal_to(ctx, c.nonce, c.aad, c.aad_len, c.in, c.in_len, c.out + c.out_offset);
  if (failed != NULL) return throw_openssl(env, failed);
  napi_value result;
  napi_create_int32(env, (int32_t)(c.in_len + TAG_LEN), &result);
  return result;
}

static napi_value aead_open_into(napi_env env, napi_callback_info info) {
  AeadCall c;
  if (!aead_args(env, info, &c)) return NULL;
  napi_value result;
  if (c.in_len < TAG_LEN) { /* cannot hold a tag: cannot authenticate */
    napi_create_int32(env, -1, &result);
    return result;
  }
  size_t pt_len = c.in_len - TAG_LEN;
  if (pt_len > c.out_len - c.out_offset) {
    throw_range(env, "out has no room for the plaintext at outOffset");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = aead_ctx(c.inst, c.aead, 0);
  if (ctx == NULL) return throw_openssl(env, "could not create the AEAD context");
  int ok = aead_open_to(c.inst, ctx, c.nonce, c.aad, c.aad_len, c.in, pt_len,
                        c.out + c.out_offset);
  if (ok == OPEN_NO_MEMORY) return throw_openssl(env, "out of memory");
  if (ok == OPEN_OPENSSL_ERROR) return throw_openssl(env, "AEAD open failed");
  napi_create_int32(env, ok ? (int32_t)pt_len : -1, &result);
  return result;
}

/* ---------------------------------------------------------------- header protection */

static napi_value hp_new(napi_env env, napi_callback_info info) {
  return key_new(env, info, hp_cipher, "hpKey must be a Uint8Array",
                 "hp key length does not match the suite", hp_finalize, &HP_TYPE_TAG, 0);
}

/*
 * The header protection mask of the 16-byte `sample` (its first MASK_LEN bytes are the mask)
 * into `block`. NULL, or what failed (throw_openssl's message).
 */
static const char *hp_block(Instance *inst, HeaderProtection *h, const uint8_t *sample,
                            uint8_t block[SAMPLE_LEN]) {
  /* ECB keeps no state between blocks: the shared context serves every packet of its key. */
  EVP_CIPHER_CTX *ctx =
      shared_ctx(&inst->hp[h->kind], hp_cipher(h->kind), 1, h->id, h->key, 0);
  if (ctx == NULL) return "could not create the header protection context";
  int n = 0;
  int ok;
  if (h->kind == KIND_CHACHA20) {
    /* RFC 9001 §5.4.4: counter = sample[0..4] little-endian, nonce = sample[4..16], mask =
       ChaCha20(hp_key, counter, nonce, {0,0,0,0,0}). OpenSSL's 16-byte ChaCha20 IV is exactly
       that layout (32-bit LE counter then 96-bit nonce), so the sample is the IV. */
    ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, sample) == 1 &&
         EVP_EncryptUpdate(ctx, block, &n, ZEROS, MASK_LEN) == 1;
  } else {
    /* RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample). */
    ok = EVP_EncryptUpdate(ctx, block, &n, sample, SAMPLE_LEN) == 1 && n == SAMPLE_LEN;
  }
  return ok ? NULL : "header protection mask failed";
}

static napi_value hp_mask(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  void *wrapped = NULL;
  if (napi_unwrap(env, self, &wrapped) != napi_ok || wrapped == NULL) {
    throw_type(env, "not a HeaderProtection");
    return NULL;
  }
  HeaderProtection *h = (HeaderProtection *)wrapped;
  uint8_t *buf, *out;
  size_t buf_len, out_len, sample_offset, out_offset;
  if (!get_bytes(env, argv[0], "buf must be a Uint8Array", &buf, &buf_len) ||
      !get_offset(env, argv[1], "sampleOffset must be an integer within buf", buf_len,
                  &sample_offset) ||
      !get_bytes(env, argv[2], "out must be a Uint8Array", &out, &out_len) ||
      !get_offset(env, argv[3], "outOffset must be an integer within out", out_len,
                  &out_offset)) {
    return NULL;
  }
  if (SAMPLE_LEN > buf_len - sample_offset) {
    throw_range(env, "buf has no 16-byte sample at sampleOffset");
    return NULL;
  }
  if (MASK_LEN > out_len - out_offset) {
    throw_range(env, "out has no room for the 5-byte mask at outOffset");
    return NULL;
  }
  Instance *inst = get_instance(env);
  if (inst == NULL) return throw_openssl(env, "addon not initialised");
  uint8_t block[SAMPLE_LEN];
  const char *failed = hp_block(inst, h, buf + sample_offset, block);
  if (failed != NULL) return throw_openssl(env, failed);
  memcpy(out + out_offset, block, MASK_LEN);
  return NULL; /* undefined */
}

/* ---------------------------------------------------------------- packets in one call */

/* Largest packet number a JavaScript number holds exactly (2^53 - 1); RFC 9000 §17.1 allows up
   to 2^62 - 1, which no connection reaches (the AEAD limits force key updates long before). */
#define MAX_PN 9007199254740991.0

/* The Key wrapped in `v` if `v` is an object tagged `tag`, else a TypeError `msg`. */
static Key *get_key(napi_env env, napi_value v, const napi_type_tag *tag, const char *msg) {
  napi_valuetype t;
  bool tagged = false;
  void *wrapped = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
      napi_check_object_type_tag(env, v, tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, v, &wrapped) != napi_ok || wrapped == NULL) {
    throw_type(env, msg);
    return NULL;
  }
  return (Key *)wrapped;
}

/* A packet number: an integer from 0 to MAX_PN. */
static int get_pn(napi_env env, napi_value v, uint64_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number ||
      napi_get_value_double(env, v, &d) != napi_ok) {
    return throw_type(env, "pn must be a number");
  }
  if (!(d >= 0 && d <= MAX_PN) || d != (double)(uint64_t)d) {
    return throw_range(env, "pn must be an integer from 0 to 2^53 - 1");
  }
  *out = (uint64_t)d;
  return 1;
}

/* nonce = iv XOR the packet number, left-padded to 12 bytes (RFC 9001 §5.3). */
static void packet_nonce(const Aead *a, uint64_t pn, uint8_t nonce[NONCE_LEN]) {
  memcpy(nonce, a->iv, NONCE_LEN);
  for (int i = 0; i < 8; i++) nonce[NONCE_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* What sealPacket and openPacket share: receiver, packet, pnOffset, pnLength, pn, checked. */
typedef struct {
  Instance *inst;
  Aead *aead;
  uint8_t *packet;
  size_t len, pn_offset, pn_length;
  uint64_t pn;
} PacketCall;

static int packet_args(napi_env env, napi_value self, napi_value *argv, PacketCall *c) {
  void *wrapped = NULL;
  if (napi_unwrap(env, self, &wrapped) != napi_ok || wrapped == NULL) {
    return throw_type(env, "not an Aead");
  }
  c->aead = (Aead *)wrapped;
  if (!c->aead->has_iv) return throw_type(env, "this Aead was made without an IV");
  c->inst = get_instance(env);
  if (c->inst == NULL) {
    throw_openssl(env, "addon not initialised");
    return 0;
  }
  if (!get_bytes(env, argv[0], "packet must be a Uint8Array", &c->packet, &c->len) ||
      !get_offset(env, argv[1], "pnOffset must be an integer within packet", c->len,
                  &c->pn_offset) ||
      !get_offset(env, argv[2], "pnLength must be an integer from 1 to 4", 4, &c->pn_length) ||
      !get_pn(env, argv[3], &c->pn)) {
    return 0;
  }
  if (c->pn_length == 0) return throw_range(env, "pnLength must be an integer from 1 to 4");
  /* The header (the AAD) is at most INT_MAX bytes: EVP takes int lengths. */
  if (c->pn_length > c->len - c->pn_offset || c->pn_offset + c->pn_length > INT_MAX) {
    return throw_range(env, "the packet number does not fit the packet");
  }
  return 1;
}

/*
 * sealPacket(packet, pnOffset, pnLength, pn, payloadLength, hp) -> pnOffset + pnLength +
 * payloadLength + 16. On entry packet[0, pnOffset) is the header and the payload follows the
 * packet number's pnLength bytes, with 16 bytes of room for the tag after it. Writes the Packet
 * Number Length bits of packet[0] and the low pnLength bytes of pn (big-endian, RFC 9000
 * §17.1), seals the payload in place with nonce = iv XOR pn and AAD = packet[0, pnOffset +
 * pnLength) (RFC 9001 §5.3), then applies header protection (RFC 9001 §5.4.1): the mask of the
 * 16-byte sample at pnOffset + 4 (§5.4.2) over the low 4 bits of packet[0] for a long header
 * (0x80 set) or 5 for a short one, and over the packet number bytes. Every argument is checked
 * before anything is written: pnOffset >= 1, pnLength 1-4, the packet within the buffer, and
 * the sample within the packet (pnLength + payloadLength >= 4; RangeError otherwise).
 */
static napi_value packet_seal(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  PacketCall c;
  size_t payload_len;
  if (!packet_args(env, self, argv, &c) ||
      !get_offset(env, argv[4], "payloadLength must be an integer within packet", c.len,
                  &payload_len)) {
    return NULL;
  }
  HeaderProtection *h = get_key(env, argv[5], &HP_TYPE_TAG, "hp must be a HeaderProtection");
  if (h == NULL) return NULL;
  if (h->kind != c.aead->kind) {
    throw_range(env, "hp belongs to another cipher suite");
    return NULL;
  }
  if (c.pn_offset == 0) {
    throw_range(env, "pnOffset must be at least 1 (the first byte is the header's)");
    return NULL;
  }
  const size_t payload_offset = c.pn_offset + c.pn_length;
  /* Each term is at most len, so the sums do not wrap. */
  if (payload_len > c.len - payload_offset || TAG_LEN > c.len - payload_offset - payload_len) {
    throw_range(env, "packet has no room for the payload and the 16-byte tag");
    return NULL;
  }
  const size_t end = payload_offset + payload_len + TAG_LEN;
  if (end > INT_MAX) {
    throw_range(env, "packet too long");
    return NULL;
  }
  const size_t sample_offset = c.pn_offset + 4;
  if (sample_offset + SAMPLE_LEN > end) {
    throw_range(env, "pnLength + payloadLength must be at least 4 for the sample");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = aead_ctx(c.inst, c.aead, 1);
  if (ctx == NULL) return throw_openssl(env, "could not create the AEAD context");
  uint8_t *p = c.packet;
  p[0] = (uint8_t)((p[0] & 0xfc) | (c.pn_length - 1));
  for (size_t i = 0; i < c.pn_length; i++) {
    p[c.pn_offset + i] = (uint8_t)(c.pn >> (8 * (c.pn_length - 1 - i)));
  }
  uint8_t nonce[NONCE_LEN];
  packet_nonce(c.aead, c.pn, nonce);
  uint8_t *payload = p + payload_offset;
  const char *failed = aead_seal_to(ctx, nonce, p, payload_offset, payload, payload_len, payload);
  uint8_t mask[SAMPLE_LEN];
  if (failed == NULL) failed = hp_block(c.inst, h, p + sample_offset, mask);
  if (failed != NULL) return throw_openssl(env, failed);
  p[0] ^= mask[0] & ((p[0] & 0x80) ? 0x0f : 0x1f);
  for (size_t i = 0; i < c.pn_length; i++) p[c.pn_offset + i] ^= mask[1 + i];
  napi_value result;
  napi_create_int32(env, (int32_t)end, &result);
  return result;
}

/*
 * openPacket(packet, pnOffset, pnLength, pn) -> the plaintext length, or -1. `packet` is exactly
 * one packet with its header protection removed: AAD = packet[0, pnOffset + pnLength), then
 * ciphertext and tag to the end. Opens in place with nonce = iv XOR pn (RFC 9001 §5.3) through
 * the scratch buffer: the plaintext replaces the ciphertext only when the tag verifies, and on
 * -1 (a wrong tag, or fewer than 16 bytes after the packet number) the packet is untouched.
 */
static napi_value packet_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  PacketCall c;
  if (!packet_args(env, self, argv, &c)) return NULL;
  const size_t payload_offset = c.pn_offset + c.pn_length;
  const size_t in_len = c.len - payload_offset;
  napi_value result;
  if (in_len < TAG_LEN) { /* cannot hold a tag: cannot authenticate */
    napi_create_int32(env, -1, &result);
    return result;
  }
  if (in_len > MAX_AEAD_INPUT) {
    throw_range(env, "packet too long");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = aead_ctx(c.inst, c.aead, 0);
  if (ctx == NULL) return throw_openssl(env, "could not create the AEAD context");
  uint8_t nonce[NONCE_LEN];
  packet_nonce(c.aead, c.pn, nonce);
  const size_t pt_len = in_len - TAG_LEN;
  uint8_t *payload = c.packet + payload_offset;
  int ok = aead_open_to(c.inst, ctx, nonce, c.packet, payload_offset, payload, pt_len, payload);
  if (ok == OPEN_NO_MEMORY) return throw_openssl(env, "out of memory");
  if (ok == OPEN_OPENSSL_ERROR) return throw_openssl(env, "AEAD open failed");
  napi_create_int32(env, ok ? (int32_t)pt_len : -1, &result);
  return result;
}

/* ---------------------------------------------------------------- scramble-dt transform */

#define SCRAMBLE_KEY_LEN 32
#define SCRAMBLE_IV_LEN 16
#define MAX_CID_LEN 255 /* RFC 8999 §5.1: up to 255 in the invariants; v1 uses at most 20 */
#define SCRAMBLE_EXTERNAL_BYTES 2048

static void scramble_free(Scramble *x) {
  EVP_CIPHER_CTX_free(x->ctr);
  EVP_CIPHER_CTX_free(x->k2_enc);
  EVP_CIPHER_CTX_free(x->k2_dec);
  free(x);
}

static void scramble_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  scramble_free((Scramble *)data);
  int64_t ignored;
  napi_adjust_external_memory(env, -SCRAMBLE_EXTERNAL_BYTES, &ignored);
}

static napi_value scramble_new(napi_env env, napi_callback_info info) {
  if (!is_construct_call(env, info)) return NULL;
  size_t argc = 1;
  napi_value argv[1], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  uint8_t *key;
  size_t key_len;
  if (!get_bytes(env, argv[0], "key must be a Uint8Array", &key, &key_len)) return NULL;
  if (key_len != SCRAMBLE_KEY_LEN) {
    throw_range(env, "a scramble key is 32 bytes");
    return NULL;
  }
  Scramble *x = calloc(1, sizeof(Scramble));
  if (x == NULL) return throw_openssl(env, "out of memory");
  x->ctr = EVP_CIPHER_CTX_new();
  x->k2_enc = EVP_CIPHER_CTX_new();
  x->k2_dec = EVP_CIPHER_CTX_new();
  if (x->ctr == NULL || x->k2_enc == NULL || x->k2_dec == NULL ||
      EVP_EncryptInit_ex(x->ctr, EVP_aes_128_ctr(), NULL, key, NULL) != 1 ||
      EVP_EncryptInit_ex(x->k2_enc, EVP_aes_128_ecb(), NULL, key + 16, NULL) != 1 ||
      EVP_CIPHER_CTX_set_padding(x->k2_enc, 0) != 1 ||
      EVP_DecryptInit_ex(x->k2_dec, EVP_aes_128_ecb(), NULL, key + 16, NULL) != 1 ||
      EVP_CIPHER_CTX_set_padding(x->k2_dec, 0) != 1) {
    scramble_free(x);
    return throw_openssl(env, "could not create the scramble contexts");
  }
  if (napi_wrap(env, self, x, scramble_finalize, NULL, NULL) != napi_ok) {
    scramble_free(x);
    return NULL;
  }
  int64_t ignored;
  napi_adjust_external_memory(env, SCRAMBLE_EXTERNAL_BYTES, &ignored);
  return self;
}

/*
 * apply(decode, packet, cidLength, out). With L = cidLength, iv = the 16 bytes after the CID and
 * rest = everything after them: ctr_output = AES-128-CTR(k1, iv, packet[0] || rest); out[0] =
 * ctr_output[0] & 0x7f (the Header Form bit cleared, RFC 8999 §5.2), out[1..L] = the CID,
 * out's rest = ctr_output[1..], and the IV goes out encrypted under k2 (encode) or comes back
 * decrypted (decode, which first recovers the IV the counter starts from).
 */
static napi_value scramble_apply(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  void *wrapped = NULL;
  if (napi_unwrap(env, self, &wrapped) != napi_ok || wrapped == NULL) {
    throw_type(env, "not a Scramble");
    return NULL;
  }
  Scramble *x = (Scramble *)wrapped;
  bool decode = false;
  napi_valuetype t;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_boolean ||
      napi_get_value_bool(env, argv[0], &decode) != napi_ok) {
    throw_type(env, "decode must be a boolean");
    return NULL;
  }
  uint8_t *packet, *out;
  size_t n, out_len, cid_len;
  if (!get_bytes(env, argv[1], "packet must be a Uint8Array", &packet, &n) ||
      !get_offset(env, argv[2], "cidLength must be an integer from 0 to 255", MAX_CID_LEN,
                  &cid_len) ||
      !get_bytes(env, argv[3], "out must be a Uint8Array", &out, &out_len)) {
    return NULL;
  }
  const size_t iv_off = 1 + cid_len;
  const size_t rest_off = iv_off + SCRAMBLE_IV_LEN;
  if (n < rest_off || n > (size_t)INT_MAX) {
    throw_range(env, "packet is shorter than its first byte, CID and IV");
    return NULL;
  }
  if (out_len < n) {
    throw_range(env, "out is shorter than packet");
    return NULL;
  }
  /* In place, or into bytes that do not overlap the packet's (OpenSSL allows only these). */
  if (out != packet && out < packet + n && packet < out + n) {
    throw_range(env, "out overlaps packet without being it");
    return NULL;
  }
  uint8_t iv_in[SCRAMBLE_IV_LEN], iv[SCRAMBLE_IV_LEN], iv_out[SCRAMBLE_IV_LEN], first;
  memcpy(iv_in, packet + iv_off, SCRAMBLE_IV_LEN);
  int m = 0, ok;
  if (decode) {
    ok = EVP_DecryptUpdate(x->k2_dec, iv, &m, iv_in, SCRAMBLE_IV_LEN) == 1 && m == SCRAMBLE_IV_LEN;
    memcpy(iv_out, iv, SCRAMBLE_IV_LEN);
  } else {
    memcpy(iv, iv_in, SCRAMBLE_IV_LEN);
    ok = EVP_EncryptUpdate(x->k2_enc, iv_out, &m, iv_in, SCRAMBLE_IV_LEN) == 1 &&
         m == SCRAMBLE_IV_LEN;
  }
  const size_t rest_len = n - rest_off;
  ok = ok && EVP_EncryptInit_ex(x->ctr, NULL, NULL, NULL, iv) == 1 &&
       EVP_EncryptUpdate(x->ctr, &first, &m, packet, 1) == 1 &&
       (rest_len == 0 ||
        EVP_EncryptUpdate(x->ctr, out + rest_off, &m, packet + rest_off, (int)rest_len) == 1);
  if (!ok) return throw_openssl(env, "scramble failed");
  out[0] = (uint8_t)(first & 0x7f);
  if (out != packet) memcpy(out + 1, packet + 1, cid_len);
  memcpy(out + iv_off, iv_out, SCRAMBLE_IV_LEN);
  return NULL; /* undefined */
}

/* ---------------------------------------------------------------- batched UDP send (Linux) */

#ifdef __linux__
/* Datagrams per sendmmsg call; the caller loops for more. */
#define BATCH_MAX 64
/* Longest host string accepted ("ffff:...:255.255.255.255" is 45 characters). */
#define HOST_MAX 64

static int get_element(napi_env env, napi_value array, uint32_t i, napi_value *out) {
  if (napi_get_element(env, array, i, out) != napi_ok) return throw_type(env, "array read failed");
  return 1;
}

static int get_array(napi_env env, napi_value v, const char *msg, uint32_t *len) {
  bool is_array = false;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, v, len) != napi_ok) {
    return throw_type(env, msg);
  }
  return 1;
}

/* A sockaddr made by sockaddr(): AF_INET (16 bytes) or AF_INET6 (28 bytes), family checked. */
static int get_sockaddr(napi_env env, napi_value v, const struct sockaddr **sa, socklen_t *len) {
  uint8_t *bytes;
  size_t n;
  if (!get_bytes(env, v, "addresses must be Uint8Arrays made by sockaddr()", &bytes, &n)) return 0;
  sa_family_t family;
  if (n >= sizeof family) memcpy(&family, bytes, sizeof family);
  if (!((n == sizeof(struct sockaddr_in) && family == AF_INET) ||
        (n == sizeof(struct sockaddr_in6) && family == AF_INET6))) {
    return throw_range(env, "an address is not a sockaddr made by sockaddr()");
  }
  *sa = (const struct sockaddr *)bytes;
  *len = (socklen_t)n;
  return 1;
}

/*
 * sockaddr(host, port) -> Uint8Array: the struct sockaddr_in (IPv4 literal) or sockaddr_in6
 * (anything with ':') of an IP literal and port, as send() and sendmmsg() take it; a
 * dual-stack socket is given "::ffff:a.b.c.d" for an IPv4 peer. Throws RangeError for a host
 * that is not a literal (names, zone indices) or a port out of 0-65535.
 */
static napi_value udp_sockaddr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_valuetype t;
  char host[HOST_MAX];
  size_t host_len = 0, port;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_string) {
    throw_type(env, "host must be a string");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      !get_offset(env, argv[1], "port must be an integer 0-65535", 65535, &port)) {
    return NULL;
  }
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  memset(&a6, 0, sizeof a6);
  memset(&a4, 0, sizeof a4);
  const void *sa;
  size_t len;
  int ok;
  if (memchr(host, ':', host_len) != NULL) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    ok = inet_pton(AF_INET6, host, &a6.sin6_addr) == 1;
    sa = &a6;
    len = sizeof a6;
  } else {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    ok = inet_pton(AF_INET, host, &a4.sin_addr) == 1;
    sa = &a4;
    len = sizeof a4;
  }
  /* host_len == HOST_MAX - 1: the string may have been cut short. */
  if (!ok || host_len >= HOST_MAX - 1) {
    throw_range(env, "host must be an IPv4 or IPv6 literal");
    return NULL;
  }
  napi_value buffer, out;
  void *data;
  if (napi_create_arraybuffer(env, len, &data, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, len, buffer, 0, &out) != napi_ok) {
    return NULL;
  }
  memcpy(data, sa, len);
  return out;
}

/*
 * send(fd, data, offset, length, address | null) -> bytes sent, or -errno: one sendto(2) with
 * MSG_DONTWAIT of data[offset .. offset + length), to `address` (a sockaddr() result) or, with
 * null, to the socket's connected peer. The kernel has copied the bytes when it returns, so the
 * caller may reuse them at once. EAGAIN (a full send buffer) and every other failure come back
 * as -errno for the caller to queue, count or report.
 */
static napi_value udp_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  size_t fd_value, offset, length;
  uint8_t *data;
  size_t n;
  if (!get_offset(env, argv[0], "fd must be a non-negative integer", INT_MAX, &fd_value) ||
      !get_bytes(env, argv[1], "data must be a Uint8Array", &data, &n) ||
      !get_offset(env, argv[2], "offset must be an integer within data", n, &offset) ||
      !get_offset(env, argv[3], "length must be an integer within data", n - offset, &length)) {
    return NULL;
  }
  const struct sockaddr *sa = NULL;
  socklen_t sa_len = 0;
  napi_valuetype t = napi_null;
  if (argc >= 5 && napi_typeof(env, argv[4], &t) != napi_ok) return NULL;
  if (t != napi_null && t != napi_undefined && !get_sockaddr(env, argv[4], &sa, &sa_len)) {
    return NULL;
  }
  ssize_t rc;
  do {
    rc = sendto((int)fd_value, data + offset, length, MSG_DONTWAIT, sa, sa_len);
  } while (rc < 0 && errno == EINTR);
  napi_value result;
  napi_create_int32(env, rc < 0 ? -errno : (int32_t)rc, &result);
  return result;
}

/*
 * UDP generic segmentation offload (Linux >= 4.18): one message of several datagrams to one
 * peer, cut by the kernel (or the NIC) into datagrams of `gso_size` bytes, the last possibly
 * shorter. The stack runs once per message instead of once per datagram. Limits: at most
 * UDP_MAX_SEGMENTS (64) segments, and the whole payload within one IP packet's 16-bit length.
 */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000

/*
 * sendmmsg(fd, datagrams: Uint8Array[], addresses: Uint8Array[], start, count, gso = false):
 * sends datagrams[start .. min(count, start + 64)) to addresses[i] (sockaddr() results) in one
 * sendmmsg(2) with MSG_DONTWAIT. With gso, consecutive datagrams to the same address whose
 * lengths equal the first's (the last of a run may be shorter) go as one message with a
 * UDP_SEGMENT control message. Returns the number of datagrams the kernel took (whole messages
 * only); when the first message fails (EAGAIN, EMSGSIZE; EIO or EINVAL where segmentation is not
 * available) returns -errno, and the caller sends the rest its usual way. Arguments of the wrong
 * type or out of range throw, before anything is sent.
 */
static napi_value udp_sendmmsg(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  size_t fd_value, start, count;
  uint32_t n_data, n_addrs;
  if (!get_offset(env, argv[0], "fd must be a non-negative integer", INT_MAX, &fd_value) ||
      !get_array(env, argv[1], "datagrams must be an array", &n_data) ||
      !get_array(env, argv[2], "addresses must be an array", &n_addrs) ||
      !get_offset(env, argv[4], "count must be an integer within the arrays",
                  n_data < n_addrs ? n_data : n_addrs, &count) ||
      !get_offset(env, argv[3], "start must be an integer up to count", count, &start)) {
    return NULL;
  }
  bool gso = false;
  if (argc >= 6) {
    napi_valuetype t;
    if (napi_typeof(env, argv[5], &t) != napi_ok) return NULL;
    if (t != napi_undefined && (t != napi_boolean || napi_get_value_bool(env, argv[5], &gso) != napi_ok)) {
      throw_type(env, "gso must be a boolean");
      return NULL;
    }
  }
  size_t batch = count - start;
  if (batch > BATCH_MAX) batch = BATCH_MAX;
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  const struct sockaddr *sas[BATCH_MAX];
  socklen_t sa_lens[BATCH_MAX];
  /* Datagrams in each message, to turn messages sent into datagrams sent. */
  unsigned int per_msg[BATCH_MAX];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control[BATCH_MAX];
  for (size_t i = 0; i < batch; i++) {
    napi_value d, a;
    uint8_t *data;
    size_t len;
    if (!get_element(env, argv[1], (uint32_t)(start + i), &d) ||
        !get_bytes(env, d, "datagrams must hold Uint8Arrays", &data, &len) ||
        !get_element(env, argv[2], (uint32_t)(start + i), &a) ||
        !get_sockaddr(env, a, &sas[i], &sa_lens[i])) {
      return NULL;
    }
    iov[i].iov_base = data;
    iov[i].iov_len = len;
  }
  size_t n_msgs = 0;
  for (size_t i = 0; i < batch;) {
    size_t j = i + 1;
    const size_t seg = iov[i].iov_len;
    if (gso && seg > 0) {
      size_t total = seg;
      while (j < batch && j - i < GSO_MAX_SEGMENTS && sa_lens[j] == sa_lens[i] &&
             memcmp(sas[j], sas[i], sa_lens[i]) == 0 && iov[j].iov_len > 0 &&
             iov[j].iov_len <= seg && total + iov[j].iov_len <= GSO_MAX_BYTES) {
        total += iov[j].iov_len;
        j++;
        if (iov[j - 1].iov_len < seg) break; /* a shorter one ends the run */
      }
    }
    struct msghdr *h = &msgs[n_msgs].msg_hdr;
    memset(&msgs[n_msgs], 0, sizeof msgs[n_msgs]);
    h->msg_name = (void *)sas[i];
    h->msg_namelen = sa_lens[i];
    h->msg_iov = &iov[i];
    h->msg_iovlen = j - i;
    if (j - i > 1) {
      memset(&control[n_msgs], 0, sizeof control[n_msgs]);
      h->msg_control = control[n_msgs].buf;
      h->msg_controllen = sizeof control[n_msgs].buf;
      struct cmsghdr *cm = CMSG_FIRSTHDR(h);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = (uint16_t)seg;
      memcpy(CMSG_DATA(cm), &size, sizeof size);
    }
    per_msg[n_msgs++] = (unsigned int)(j - i);
    i = j;
  }
  int sent = 0;
  if (n_msgs > 0) {
    int msgs_sent;
    do {
      msgs_sent = sendmmsg((int)fd_value, msgs, (unsigned int)n_msgs, MSG_DONTWAIT);
    } while (msgs_sent < 0 && errno == EINTR);
    if (msgs_sent < 0) {
      sent = -errno;
    } else {
      for (int k = 0; k < msgs_sent; k++) sent += (int)per_msg[k];
    }
  }
  napi_value result;
  napi_create_int32(env, sent, &result);
  return result;
}

/* Bytes of recvmmsg's record of one datagram (see udp_recvmmsg). */
#define RECV_META 80
#define RECV_TEXT_MAX (RECV_META - 12)

/*
 * recvmmsg(fd, buffer, slotSize, meta, max) -> count, 0 when nothing waits, or -errno: one
 * recvmmsg(2) with MSG_DONTWAIT of up to `max` (at most 64) datagrams, datagram i into
 * buffer[i * slotSize ..] and its record into meta[i * 80 ..]:
 *   [0..4)   int32 length (host order), -1 when the datagram was longer than its slot (cut)
 *   [4..6)   uint16 port (host order)
 *   [6]      4 (IPv4, an IPv4-mapped IPv6 address included) or 6
 *   [7]      for 6: length of the address text
 *   [8..12)  for 4: the address's four bytes
 *   [12..80) for 6: the address as inet_ntop(3) writes it, and for a link-local address with
 *            a scope "%" and the interface's name (as node:dgram's rinfo.address has it)
 * For a socket node:dgram already reads, called from its message callback: what is queued
 * behind that datagram comes out in one system call instead of one each.
 */
static napi_value udp_recvmmsg(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  size_t fd_value, slot, max;
  uint8_t *buffer, *meta;
  size_t buffer_len, meta_len;
  if (!get_offset(env, argv[0], "fd must be a non-negative integer", INT_MAX, &fd_value) ||
      !get_bytes(env, argv[1], "buffer must be a Uint8Array", &buffer, &buffer_len) ||
      !get_offset(env, argv[2], "slotSize must be an integer from 1 to 65536", 65536, &slot) ||
      !get_bytes(env, argv[3], "meta must be a Uint8Array", &meta, &meta_len) ||
      !get_offset(env, argv[4], "max must be an integer from 1 to 64", BATCH_MAX, &max)) {
    return NULL;
  }
  if (slot == 0 || max == 0) {
    throw_range(env, "slotSize and max must be positive");
    return NULL;
  }
  if (max > buffer_len / slot || max > meta_len / RECV_META) {
    throw_range(env, "buffer and meta must hold max slots");
    return NULL;
  }
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  struct sockaddr_in6 addrs[BATCH_MAX]; /* large enough for either family */
  memset(msgs, 0, sizeof(struct mmsghdr) * max);
  for (size_t i = 0; i < max; i++) {
    iov[i].iov_base = buffer + i * slot;
    iov[i].iov_len = slot;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
  }
  int n;
  do {
    n = recvmmsg((int)fd_value, msgs, (unsigned int)max, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) n = (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    uint8_t *m = meta + (size_t)i * RECV_META;
    memset(m, 0, RECV_META);
    int32_t len = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
    memcpy(m, &len, 4);
    const struct sockaddr *sa = (const struct sockaddr *)&addrs[i];
    uint16_t port = 0;
    if (sa->sa_family == AF_INET) {
      const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
      port = ntohs(a4->sin_port);
      m[6] = 4;
      memcpy(m + 8, &a4->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
      const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
      port = ntohs(a6->sin6_port);
      if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
        m[6] = 4;
        memcpy(m + 8, a6->sin6_addr.s6_addr + 12, 4);
      } else {
        char text[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE];
        if (inet_ntop(AF_INET6, &a6->sin6_addr, text, INET6_ADDRSTRLEN) != NULL) {
          size_t t = strlen(text);
          if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr) && a6->sin6_scope_id > 0) {
            char name[IF_NAMESIZE];
            if (if_indextoname(a6->sin6_scope_id, name) != NULL) {
              text[t++] = '%';
              size_t k = strnlen(name, IF_NAMESIZE - 1);
              memcpy(text + t, name, k);
              t += k;
              text[t] = 0;
            }
          }
          if (t <= RECV_TEXT_MAX) {
            m[6] = 6;
            m[7] = (uint8_t)t;
            memcpy(m + 12, text, t);
          }
        }
      }
    }
    memcpy(m + 4, &port, 2);
  }
  napi_value result;
  napi_create_int32(env, n, &result);
  return result;
}

/*
 * attachReuseportCbpf(fd, program: Uint8Array): the program is an array of struct sock_filter
 * (8 bytes each: u16 code, u8 jt, u8 jf, u32 k, host byte order), 1..BPF_MAXINSNS of them. The
 * kernel checks it (a bad one is EINVAL) and runs it for every datagram to the socket's port: its
 * result is the index of the group's socket to receive it, or, out of range, the 4-tuple hash
 * picks one (net/core/sock_reuseport.c). Returns 0, or -errno.
 */
static napi_value udp_attach_reuseport_cbpf(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  size_t fd_value;
  uint8_t *code;
  size_t len;
  if (!get_offset(env, argv[0], "fd must be a non-negative integer", INT_MAX, &fd_value) ||
      !get_bytes(env, argv[1], "program must be a Uint8Array", &code, &len)) {
    return NULL;
  }
  if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
      len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    throw_range(env, "program must hold 1..4096 instructions of 8 bytes");
    return NULL;
  }
  struct sock_filter *filter = malloc(len);
  if (filter == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  memcpy(filter, code, len);
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)),
                            .filter = filter};
  int rc = setsockopt((int)fd_value, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
  int result = rc == 0 ? 0 : -errno;
  free(filter);
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}
#endif

/* ---------------------------------------------------------------- module */

static void instance_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Instance *inst = (Instance *)data;
  for (int k = 0; k < KINDS; k++) {
    shared_free(&inst->aead[k][0]);
    shared_free(&inst->aead[k][1]);
    shared_free(&inst->hp[k]);
  }
  free(inst->scratch);
  free(inst);
}

static napi_value init(napi_env env, napi_value exports) {
  Instance *inst = calloc(1, sizeof(Instance));
  if (inst == NULL || napi_set_instance_data(env, inst, instance_finalize, NULL) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "masque native: could not initialise");
    return NULL;
  }
  napi_property_descriptor aead_methods[] = {
      {"sealInto", NULL, aead_seal_into, NULL, NULL, NULL, napi_default_method, NULL},
      {"openInto", NULL, aead_open_into, NULL, NULL, NULL, napi_default_method, NULL},
      {"sealPacket", NULL, packet_seal, NULL, NULL, NULL, napi_default_method, NULL},
      {"openPacket", NULL, packet_open, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_property_descriptor hp_methods[] = {
      {"mask", NULL, hp_mask, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_property_descriptor scramble_methods[] = {
      {"apply", NULL, scramble_apply, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value aead_class, hp_class, scramble_class, version;
  if (napi_define_class(env, "Aead", NAPI_AUTO_LENGTH, aead_new, NULL, 4, aead_methods,
                        &aead_class) != napi_ok ||
      napi_define_class(env, "HeaderProtection", NAPI_AUTO_LENGTH, hp_new, NULL, 1, hp_methods,
                        &hp_class) != napi_ok ||
      napi_define_class(env, "Scramble", NAPI_AUTO_LENGTH, scramble_new, NULL, 1,
                        scramble_methods, &scramble_class) != napi_ok ||
      napi_set_named_property(env, exports, "Scramble", scramble_class) != napi_ok ||
      napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH,
                              &version) != napi_ok ||
      napi_set_named_property(env, exports, "Aead", aead_class) != napi_ok ||
      napi_set_named_property(env, exports, "HeaderProtection", hp_class) != napi_ok ||
      napi_set_named_property(env, exports, "openssl", version) != napi_ok) {
    return NULL;
  }
#ifdef __linux__
  napi_value send_fn, sendmmsg_fn, sockaddr_fn;
  if (napi_create_function(env, "sendmmsg", NAPI_AUTO_LENGTH, udp_sendmmsg, NULL,
                           &sendmmsg_fn) != napi_ok ||
      napi_set_named_property(env, exports, "sendmmsg", sendmmsg_fn) != napi_ok ||
      napi_create_function(env, "send", NAPI_AUTO_LENGTH, udp_send, NULL, &send_fn) != napi_ok ||
      napi_set_named_property(env, exports, "send", send_fn) != napi_ok ||
      napi_create_function(env, "sockaddr", NAPI_AUTO_LENGTH, udp_sockaddr, NULL,
                           &sockaddr_fn) != napi_ok ||
      napi_set_named_property(env, exports, "sockaddr", sockaddr_fn) != napi_ok) {
    return NULL;
  }
  napi_value recv_fn;
  if (napi_create_function(env, "recvmmsg", NAPI_AUTO_LENGTH, udp_recvmmsg, NULL, &recv_fn) !=
          napi_ok ||
      napi_set_named_property(env, exports, "recvmmsg", recv_fn) != napi_ok) {
    return NULL;
  }
  napi_value cbpf_fn;
  if (napi_create_function(env, "attachReuseportCbpf", NAPI_AUTO_LENGTH, udp_attach_reuseport_cbpf,
                           NULL, &cbpf_fn) != napi_ok ||
      napi_set_named_property(env, exports, "attachReuseportCbpf", cbpf_fn) != napi_ok) {
    return NULL;
  }
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
