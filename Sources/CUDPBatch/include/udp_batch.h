#ifndef BF_UDP_BATCH_H
#define BF_UDP_BATCH_H

// Batched UDP I/O for the DHT router and its load generator: one recvmmsg
// fills up to `capacity` datagrams, one sendmmsg sends up to `capacity`
// replies. All buffers are allocated once, when the batch is made, so the
// per-packet path allocates nothing. Swift's Glibc module does not export
// recvmmsg/sendmmsg (they need _GNU_SOURCE), hence this small C target.

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_udp_batch bf_udp_batch;

/// A batch of `capacity` receive slots and `capacity` send slots, each of
/// `buffer_size` bytes. NULL when memory is short.
bf_udp_batch *bf_udp_batch_create(int capacity, int buffer_size);
void bf_udp_batch_destroy(bf_udp_batch *batch);

/// Receives up to `capacity` datagrams without blocking (recvmmsg with
/// MSG_DONTWAIT). Returns how many arrived, 0 when none was waiting, or
/// -errno on another error. Datagrams longer than the buffer are truncated
/// and flagged (see bf_udp_batch_in_truncated).
int bf_udp_batch_receive(bf_udp_batch *batch, int fd);

const uint8_t *bf_udp_batch_in_data(const bf_udp_batch *batch, int index);
int bf_udp_batch_in_length(const bf_udp_batch *batch, int index);
int bf_udp_batch_in_truncated(const bf_udp_batch *batch, int index);
/// 4 or 6 (AF_INET6 sources that are IPv4-mapped are reported as 4), 0 otherwise.
int bf_udp_batch_in_family(const bf_udp_batch *batch, int index);
/// IPv4 source in host byte order (127.0.0.1 is 0x7F000001).
uint32_t bf_udp_batch_in_v4(const bf_udp_batch *batch, int index);
/// IPv6 source as two big-endian halves, as Identity's IPAddress keeps it.
void bf_udp_batch_in_v6(const bf_udp_batch *batch, int index, uint64_t *high, uint64_t *low);
uint16_t bf_udp_batch_in_port(const bf_udp_batch *batch, int index);

/// Send slot `index`: its buffer to write into, then its length and destination.
uint8_t *bf_udp_batch_out_data(bf_udp_batch *batch, int index);
void bf_udp_batch_out_set_v4(bf_udp_batch *batch, int index, int length, uint32_t address, uint16_t port);
void bf_udp_batch_out_set_v6(bf_udp_batch *batch, int index, int length, uint64_t high, uint64_t low, uint16_t port);

/// Sends slots 0..<count with as few sendmmsg calls as the kernel allows.
/// Returns how many were sent; datagrams the kernel refuses (full buffer,
/// unreachable destination) are skipped, not retried.
int bf_udp_batch_send(bf_udp_batch *batch, int fd, int count);
/// Sends slots first..<first+count.
int bf_udp_batch_send_from(bf_udp_batch *batch, int fd, int first, int count);

/// A non-blocking UDP socket bound to `address` (4 or 16 bytes, network
/// order; family 4 or 6) and `port`, with SO_REUSEPORT when `reuse_port`,
/// IPV6_V6ONLY for IPv6, and the given kernel buffer sizes (0 keeps the
/// default). Returns the descriptor or -errno.
int bf_udp_open(int family, const uint8_t *address, uint16_t port, int reuse_port, int receive_buffer,
                int send_buffer);
/// The port a socket is bound to, or -errno.
int bf_udp_local_port(int fd);
/// Waits up to `timeout_ms` until one of `fds` (at most 1,024) is readable.
/// Returns the number of readable descriptors (ready[i] set to 1 for each),
/// 0 on timeout, -errno on error.
int bf_udp_wait(const int *fds, int count, int timeout_ms, uint8_t *ready);

/// An epoll set over `fds` (for many sockets, where poll's cost grows with
/// the count); each is reported by its index in `fds`. Returns the epoll
/// descriptor or -errno.
int bf_udp_epoll_create(const int *fds, int count);
/// Up to `max` indices of readable sockets into `ready`; their number, 0 on
/// timeout, -errno on error.
int bf_udp_epoll_wait(int epoll_fd, int timeout_ms, int *ready, int max);

#ifdef __cplusplus
}
#endif

#endif
