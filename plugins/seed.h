/* seed.h — filling a plugin's ARRAY map from a list compiled into the object: ferry zeroes a
 * filter's maps when it is attached, and a plugin whose list map is still empty (slot 0 unused)
 * writes its compiled-in entries there before it looks at its first frame (plugins/README.md).
 * The entries are written with immediate stores, so the object needs no .rodata. */
#ifndef FERRY_PLUGIN_SEED_H
#define FERRY_PLUGIN_SEED_H

/* The mask byte i (0-based) of a prefix of len bits. */
#define FERRY_PFX_BYTE(len, i) \
	((len) >= 8 * ((i) + 1) ? 0xff : (len) <= 8 * (i) ? 0 : (0xff << (8 - ((len) - 8 * (i)))) & 0xff)

/* An address's bytes packed as rd32_raw() reads them from a frame (byte 0 in the low bits). */
#define FERRY_W(b0, b1, b2, b3) \
	((uint32_t)(b0) | (uint32_t)(b1) << 8 | (uint32_t)(b2) << 16 | (uint32_t)(b3) << 24)
/* Word w (0..3) of an IPv6 address given as eight 16-bit groups g0..g7 */
#define FERRY_W6(g0, g1) FERRY_W((g0) >> 8, (g0) & 0xff, (g1) >> 8, (g1) & 0xff)
/* Word w of the mask of a prefix of len bits */
#define FERRY_MW(len, w) \
	FERRY_W(FERRY_PFX_BYTE(len, 4 * (w)), FERRY_PFX_BYTE(len, 4 * (w) + 1), \
		FERRY_PFX_BYTE(len, 4 * (w) + 2), FERRY_PFX_BYTE(len, 4 * (w) + 3))

#endif
