/* Internals of the TURN client shared by turn.c and turn_framing.c. */
#ifndef CAMRTC_TURN_INT_H
#define CAMRTC_TURN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 8656 §12: channel numbers 0x4000..0x4FFF; a ChannelData header is the channel
 * number and the length of the application data (4 bytes). */
#define TURN_CHANNEL_MIN 0x4000u
#define TURN_CHANNEL_MAX 0x4FFFu
#define TURN_CHANNEL_HEADER 4

/* Write a ChannelData message for channel into out (cap bytes): header, data, and over
 * a stream zero padding to a multiple of 4 (§12.5). Returns its length or
 * CAMRTC_ETOOBIG. */
int turn_write_channel_data(uint8_t *out, size_t cap, uint16_t channel, const uint8_t *data,
                            size_t len, bool stream);

/* Read a ChannelData message: its channel and application data. Over UDP the datagram
 * may carry padding after the data (§12.5); a length past the end is CAMRTC_EPROTO. */
int turn_read_channel_data(const uint8_t *msg, size_t len, uint16_t *channel, const uint8_t **data,
                           size_t *data_len);

#endif
