/* SPDX-License-Identifier: MIT */
/*
 * The .hqs stream file format: encoding and checked decoding of the file
 * header and of chunks (docs/STREAMS.md).
 */
#include "common/hqs.h"

#include <string.h>

/* CRC-32C, reflected polynomial 0x82f63b78, one table lookup per byte. */
static const uint32_t hqs_crc_table[256] = {
	0x00000000u,
	0xf26b8303u,
	0xe13b70f7u,
	0x1350f3f4u,
	0xc79a971fu,
	0x35f1141cu,
	0x26a1e7e8u,
	0xd4ca64ebu,
	0x8ad958cfu,
	0x78b2dbccu,
	0x6be22838u,
	0x9989ab3bu,
	0x4d43cfd0u,
	0xbf284cd3u,
	0xac78bf27u,
	0x5e133c24u,
	0x105ec76fu,
	0xe235446cu,
	0xf165b798u,
	0x030e349bu,
	0xd7c45070u,
	0x25afd373u,
	0x36ff2087u,
	0xc494a384u,
	0x9a879fa0u,
	0x68ec1ca3u,
	0x7bbcef57u,
	0x89d76c54u,
	0x5d1d08bfu,
	0xaf768bbcu,
	0xbc267848u,
	0x4e4dfb4bu,
	0x20bd8edeu,
	0xd2d60dddu,
	0xc186fe29u,
	0x33ed7d2au,
	0xe72719c1u,
	0x154c9ac2u,
	0x061c6936u,
	0xf477ea35u,
	0xaa64d611u,
	0x580f5512u,
	0x4b5fa6e6u,
	0xb93425e5u,
	0x6dfe410eu,
	0x9f95c20du,
	0x8cc531f9u,
	0x7eaeb2fau,
	0x30e349b1u,
	0xc288cab2u,
	0xd1d83946u,
	0x23b3ba45u,
	0xf779deaeu,
	0x05125dadu,
	0x1642ae59u,
	0xe4292d5au,
	0xba3a117eu,
	0x4851927du,
	0x5b016189u,
	0xa96ae28au,
	0x7da08661u,
	0x8fcb0562u,
	0x9c9bf696u,
	0x6ef07595u,
	0x417b1dbcu,
	0xb3109ebfu,
	0xa0406d4bu,
	0x522bee48u,
	0x86e18aa3u,
	0x748a09a0u,
	0x67dafa54u,
	0x95b17957u,
	0xcba24573u,
	0x39c9c670u,
	0x2a993584u,
	0xd8f2b687u,
	0x0c38d26cu,
	0xfe53516fu,
	0xed03a29bu,
	0x1f682198u,
	0x5125dad3u,
	0xa34e59d0u,
	0xb01eaa24u,
	0x42752927u,
	0x96bf4dccu,
	0x64d4cecfu,
	0x77843d3bu,
	0x85efbe38u,
	0xdbfc821cu,
	0x2997011fu,
	0x3ac7f2ebu,
	0xc8ac71e8u,
	0x1c661503u,
	0xee0d9600u,
	0xfd5d65f4u,
	0x0f36e6f7u,
	0x61c69362u,
	0x93ad1061u,
	0x80fde395u,
	0x72966096u,
	0xa65c047du,
	0x5437877eu,
	0x4767748au,
	0xb50cf789u,
	0xeb1fcbadu,
	0x197448aeu,
	0x0a24bb5au,
	0xf84f3859u,
	0x2c855cb2u,
	0xdeeedfb1u,
	0xcdbe2c45u,
	0x3fd5af46u,
	0x7198540du,
	0x83f3d70eu,
	0x90a324fau,
	0x62c8a7f9u,
	0xb602c312u,
	0x44694011u,
	0x5739b3e5u,
	0xa55230e6u,
	0xfb410cc2u,
	0x092a8fc1u,
	0x1a7a7c35u,
	0xe811ff36u,
	0x3cdb9bddu,
	0xceb018deu,
	0xdde0eb2au,
	0x2f8b6829u,
	0x82f63b78u,
	0x709db87bu,
	0x63cd4b8fu,
	0x91a6c88cu,
	0x456cac67u,
	0xb7072f64u,
	0xa457dc90u,
	0x563c5f93u,
	0x082f63b7u,
	0xfa44e0b4u,
	0xe9141340u,
	0x1b7f9043u,
	0xcfb5f4a8u,
	0x3dde77abu,
	0x2e8e845fu,
	0xdce5075cu,
	0x92a8fc17u,
	0x60c37f14u,
	0x73938ce0u,
	0x81f80fe3u,
	0x55326b08u,
	0xa759e80bu,
	0xb4091bffu,
	0x466298fcu,
	0x1871a4d8u,
	0xea1a27dbu,
	0xf94ad42fu,
	0x0b21572cu,
	0xdfeb33c7u,
	0x2d80b0c4u,
	0x3ed04330u,
	0xccbbc033u,
	0xa24bb5a6u,
	0x502036a5u,
	0x4370c551u,
	0xb11b4652u,
	0x65d122b9u,
	0x97baa1bau,
	0x84ea524eu,
	0x7681d14du,
	0x2892ed69u,
	0xdaf96e6au,
	0xc9a99d9eu,
	0x3bc21e9du,
	0xef087a76u,
	0x1d63f975u,
	0x0e330a81u,
	0xfc588982u,
	0xb21572c9u,
	0x407ef1cau,
	0x532e023eu,
	0xa145813du,
	0x758fe5d6u,
	0x87e466d5u,
	0x94b49521u,
	0x66df1622u,
	0x38cc2a06u,
	0xcaa7a905u,
	0xd9f75af1u,
	0x2b9cd9f2u,
	0xff56bd19u,
	0x0d3d3e1au,
	0x1e6dcdeeu,
	0xec064eedu,
	0xc38d26c4u,
	0x31e6a5c7u,
	0x22b65633u,
	0xd0ddd530u,
	0x0417b1dbu,
	0xf67c32d8u,
	0xe52cc12cu,
	0x1747422fu,
	0x49547e0bu,
	0xbb3ffd08u,
	0xa86f0efcu,
	0x5a048dffu,
	0x8ecee914u,
	0x7ca56a17u,
	0x6ff599e3u,
	0x9d9e1ae0u,
	0xd3d3e1abu,
	0x21b862a8u,
	0x32e8915cu,
	0xc083125fu,
	0x144976b4u,
	0xe622f5b7u,
	0xf5720643u,
	0x07198540u,
	0x590ab964u,
	0xab613a67u,
	0xb831c993u,
	0x4a5a4a90u,
	0x9e902e7bu,
	0x6cfbad78u,
	0x7fab5e8cu,
	0x8dc0dd8fu,
	0xe330a81au,
	0x115b2b19u,
	0x020bd8edu,
	0xf0605beeu,
	0x24aa3f05u,
	0xd6c1bc06u,
	0xc5914ff2u,
	0x37faccf1u,
	0x69e9f0d5u,
	0x9b8273d6u,
	0x88d28022u,
	0x7ab90321u,
	0xae7367cau,
	0x5c18e4c9u,
	0x4f48173du,
	0xbd23943eu,
	0xf36e6f75u,
	0x0105ec76u,
	0x12551f82u,
	0xe03e9c81u,
	0x34f4f86au,
	0xc69f7b69u,
	0xd5cf889du,
	0x27a40b9eu,
	0x79b737bau,
	0x8bdcb4b9u,
	0x988c474du,
	0x6ae7c44eu,
	0xbe2da0a5u,
	0x4c4623a6u,
	0x5f16d052u,
	0xad7d5351u,
};

/* Byte offsets of the header and chunk fields. */
#define HDR_VERSION 8
#define HDR_WORKER  12
#define HDR_UID_LEN 16
#define HDR_UID	    20
#define CH_TIME	    0
#define CH_JOB	    8
#define CH_TASK	    12
#define CH_INSTANCE 16
#define CH_CHANNEL  20
#define CH_SIZE	    24
#define CH_DATA_CRC 28
#define CH_HDR_CRC  32

uint32_t
hq_hqs_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (n-- > 0)
		crc = hqs_crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

int
hq_hqs_encode_header(struct hq_buf *out, uint32_t worker_id,
    const char *server_uid, struct hq_errbuf *eb)
{
	size_t ulen = strlen(server_uid);
	uint8_t *p;

	if (ulen > HQ_HQS_MAX_UID)
		return hq_errf(eb, HQ_EINVAL,
		    "server uid '%s' is longer than %u bytes", server_uid,
		    HQ_HQS_MAX_UID);
	p = hq_buf_reserve(out, HDR_UID + ulen + 4);
	memcpy(p, HQ_HQS_MAGIC, HQ_HQS_MAGIC_LEN);
	put_u32(p + HDR_VERSION, HQ_HQS_VERSION);
	put_u32(p + HDR_WORKER, worker_id);
	put_u32(p + HDR_UID_LEN, (uint32_t)ulen);
	memcpy(p + HDR_UID, server_uid, ulen);
	put_u32(p + HDR_UID + ulen, hq_hqs_crc32c(0, p, HDR_UID + ulen));
	out->len += HDR_UID + ulen + 4;
	return 0;
}

void
hq_hqs_chunk_header(uint8_t out[HQ_HQS_CHUNK_HDR], const struct hq_hqs_chunk *c)
{
	HQ_ASSERT(c->channel <= HQ_HQS_STDERR);
	HQ_ASSERT(c->size <= HQ_HQS_MAX_DATA);
	HQ_ASSERT(c->size > 0 || c->channel == HQ_HQS_STDOUT);
	put_u64(out + CH_TIME, (uint64_t)c->time_ms);
	put_u32(out + CH_JOB, c->job);
	put_u32(out + CH_TASK, c->task);
	put_u32(out + CH_INSTANCE, c->instance);
	put_u32(out + CH_CHANNEL, c->channel);
	put_u32(out + CH_SIZE, c->size);
	put_u32(out + CH_DATA_CRC,
	    c->size > 0 ? hq_hqs_crc32c(0, c->data, c->size) : 0);
	put_u32(out + CH_HDR_CRC, hq_hqs_crc32c(0, out, CH_HDR_CRC));
}

void
hq_hqs_encode_chunk(struct hq_buf *out, const struct hq_hqs_chunk *c)
{
	uint8_t hdr[HQ_HQS_CHUNK_HDR];

	hq_hqs_chunk_header(hdr, c);
	hq_buf_append(out, hdr, sizeof hdr);
	if (c->size > 0)
		hq_buf_append(out, c->data, c->size);
}

int
hq_hqs_decode_header(const uint8_t *p, size_t len, struct hq_hqs_header *h,
    size_t *used, struct hq_errbuf *eb)
{
	uint32_t version, ulen;

	*used = 0;
	if (len == 0)
		return 0;
	if (memcmp(p, HQ_HQS_MAGIC, HQ_MIN(len, (size_t)HQ_HQS_MAGIC_LEN)) != 0)
		return hq_errf(eb, HQ_EINVAL,
		    "not a stream file (it does not start with \"%s\")",
		    HQ_HQS_MAGIC);
	if (len < HDR_WORKER)
		return 0;
	version = get_u32(p + HDR_VERSION);
	if (version != HQ_HQS_VERSION)
		return hq_errf(eb, HQ_EVERSION,
		    "unsupported stream file version %u (this hq reads "
		    "version %u)",
		    version, HQ_HQS_VERSION);
	if (len < HDR_UID)
		return 0;
	ulen = get_u32(p + HDR_UID_LEN);
	if (ulen > HQ_HQS_MAX_UID)
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged header: server uid length %u is over %u", ulen,
		    HQ_HQS_MAX_UID);
	if (len < HDR_UID + ulen + 4)
		return 0;
	if (get_u32(p + HDR_UID + ulen) != hq_hqs_crc32c(0, p, HDR_UID + ulen))
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged header: checksum mismatch");
	if (memchr(p + HDR_UID, '\0', ulen) != NULL)
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged header: the server uid contains a NUL byte");
	h->version = version;
	h->worker_id = get_u32(p + HDR_WORKER);
	memcpy(h->server_uid, p + HDR_UID, ulen);
	h->server_uid[ulen] = '\0';
	*used = HDR_UID + ulen + 4;
	return 0;
}

int
hq_hqs_decode_chunk(const uint8_t *p, size_t len, struct hq_hqs_chunk *c,
    size_t *used, struct hq_errbuf *eb)
{
	uint32_t channel, size, dcrc;

	*used = 0;
	if (len < HQ_HQS_CHUNK_HDR)
		return 0;
	if (get_u32(p + CH_HDR_CRC) != hq_hqs_crc32c(0, p, CH_HDR_CRC))
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged chunk: header checksum mismatch");
	channel = get_u32(p + CH_CHANNEL);
	size = get_u32(p + CH_SIZE);
	dcrc = get_u32(p + CH_DATA_CRC);
	if (channel > HQ_HQS_STDERR)
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged chunk: unknown channel %u", channel);
	if (size > HQ_HQS_MAX_DATA)
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged chunk: size %u is over the limit of %u bytes",
		    size, HQ_HQS_MAX_DATA);
	if (size == 0 && (channel != 0 || dcrc != 0))
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged chunk: an end-of-stream chunk with channel %u "
		    "and data checksum %08x",
		    channel, dcrc);
	if (len - HQ_HQS_CHUNK_HDR < size)
		return 0;
	if (size > 0 && dcrc != hq_hqs_crc32c(0, p + HQ_HQS_CHUNK_HDR, size))
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged chunk: data checksum mismatch");
	c->time_ms = (int64_t)get_u64(p + CH_TIME);
	c->job = get_u32(p + CH_JOB);
	c->task = get_u32(p + CH_TASK);
	c->instance = get_u32(p + CH_INSTANCE);
	c->channel = channel;
	c->size = size;
	c->data = size > 0 ? p + HQ_HQS_CHUNK_HDR : NULL;
	*used = HQ_HQS_CHUNK_HDR + size;
	return 0;
}

int
hq_hqs_reader_open(struct hq_hqs_reader *r, const uint8_t *p, size_t len,
    struct hq_errbuf *eb)
{
	size_t used;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = hq_hqs_decode_header(p, len, &r->hdr, &used, eb)) != 0)
		return rc;
	if (used == 0)
		return hq_errf(eb, HQ_ECORRUPT,
		    "truncated header (the file has only %zu bytes)", len);
	r->p = p;
	r->len = len;
	r->off = used;
	return 0;
}

int
hq_hqs_reader_next(struct hq_hqs_reader *r, struct hq_hqs_chunk *c,
    enum hq_hqs_status *st, struct hq_errbuf *eb)
{
	struct hq_errbuf e2;
	size_t used;
	int rc;

	if (r->off == r->len) {
		*st = HQ_HQS_END;
		return 0;
	}
	rc = hq_hqs_decode_chunk(r->p + r->off, r->len - r->off, c, &used, &e2);
	if (rc != 0)
		return hq_errf(eb, rc, "offset %zu: %s", r->off, e2.msg);
	if (used == 0) {
		*st = HQ_HQS_TRUNCATED;
		return 0;
	}
	r->off += used;
	*st = HQ_HQS_GOT_CHUNK;
	return 0;
}
