#define _GNU_SOURCE
#include "udp_batch.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct bf_udp_batch {
    int capacity;
    int buffer_size;
    uint8_t *in_buffers;
    uint8_t *out_buffers;
    struct mmsghdr *in_headers;
    struct mmsghdr *out_headers;
    struct iovec *in_vectors;
    struct iovec *out_vectors;
    struct sockaddr_in6 *in_addresses;
    struct sockaddr_in6 *out_addresses;
};

bf_udp_batch *bf_udp_batch_create(int capacity, int buffer_size) {
    if (capacity <= 0 || buffer_size <= 0) return NULL;
    bf_udp_batch *batch = calloc(1, sizeof(bf_udp_batch));
    if (!batch) return NULL;
    size_t n = (size_t)capacity;
    batch->capacity = capacity;
    batch->buffer_size = buffer_size;
    batch->in_buffers = calloc(n, (size_t)buffer_size);
    batch->out_buffers = calloc(n, (size_t)buffer_size);
    batch->in_headers = calloc(n, sizeof(struct mmsghdr));
    batch->out_headers = calloc(n, sizeof(struct mmsghdr));
    batch->in_vectors = calloc(n, sizeof(struct iovec));
    batch->out_vectors = calloc(n, sizeof(struct iovec));
    batch->in_addresses = calloc(n, sizeof(struct sockaddr_in6));
    batch->out_addresses = calloc(n, sizeof(struct sockaddr_in6));
    if (!batch->in_buffers || !batch->out_buffers || !batch->in_headers || !batch->out_headers || !batch->in_vectors
        || !batch->out_vectors || !batch->in_addresses || !batch->out_addresses) {
        bf_udp_batch_destroy(batch);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        batch->in_vectors[i].iov_base = batch->in_buffers + i * (size_t)buffer_size;
        batch->in_vectors[i].iov_len = (size_t)buffer_size;
        batch->out_vectors[i].iov_base = batch->out_buffers + i * (size_t)buffer_size;
        batch->out_headers[i].msg_hdr.msg_iov = &batch->out_vectors[i];
        batch->out_headers[i].msg_hdr.msg_iovlen = 1;
        batch->out_headers[i].msg_hdr.msg_name = &batch->out_addresses[i];
    }
    return batch;
}

void bf_udp_batch_destroy(bf_udp_batch *batch) {
    if (!batch) return;
    free(batch->in_buffers);
    free(batch->out_buffers);
    free(batch->in_headers);
    free(batch->out_headers);
    free(batch->in_vectors);
    free(batch->out_vectors);
    free(batch->in_addresses);
    free(batch->out_addresses);
    free(batch);
}

int bf_udp_batch_receive(bf_udp_batch *batch, int fd) {
    for (int i = 0; i < batch->capacity; i++) {
        struct msghdr *header = &batch->in_headers[i].msg_hdr;
        header->msg_name = &batch->in_addresses[i];
        header->msg_namelen = sizeof(struct sockaddr_in6);
        header->msg_iov = &batch->in_vectors[i];
        header->msg_iovlen = 1;
        header->msg_control = NULL;
        header->msg_controllen = 0;
        header->msg_flags = 0;
    }
    for (;;) {
        int count = recvmmsg(fd, batch->in_headers, (unsigned)batch->capacity, MSG_DONTWAIT, NULL);
        if (count >= 0) return count;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
}

const uint8_t *bf_udp_batch_in_data(const bf_udp_batch *batch, int index) {
    return batch->in_buffers + (size_t)index * (size_t)batch->buffer_size;
}

int bf_udp_batch_in_length(const bf_udp_batch *batch, int index) {
    return (int)batch->in_headers[index].msg_len;
}

int bf_udp_batch_in_truncated(const bf_udp_batch *batch, int index) {
    return (batch->in_headers[index].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

static int is_v4_mapped(const struct sockaddr_in6 *address) {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    return memcmp(address->sin6_addr.s6_addr, prefix, sizeof(prefix)) == 0;
}

int bf_udp_batch_in_family(const bf_udp_batch *batch, int index) {
    const struct sockaddr_in6 *address = &batch->in_addresses[index];
    if (address->sin6_family == AF_INET) return 4;
    if (address->sin6_family == AF_INET6) return is_v4_mapped(address) ? 4 : 6;
    return 0;
}

uint32_t bf_udp_batch_in_v4(const bf_udp_batch *batch, int index) {
    const struct sockaddr_in6 *address = &batch->in_addresses[index];
    if (address->sin6_family == AF_INET) return ntohl(((const struct sockaddr_in *)address)->sin_addr.s_addr);
    uint32_t value;
    memcpy(&value, address->sin6_addr.s6_addr + 12, 4);
    return ntohl(value);
}

static uint64_t load_big_endian64(const uint8_t *bytes) {
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = value << 8 | bytes[i];
    return value;
}

void bf_udp_batch_in_v6(const bf_udp_batch *batch, int index, uint64_t *high, uint64_t *low) {
    const uint8_t *bytes = batch->in_addresses[index].sin6_addr.s6_addr;
    *high = load_big_endian64(bytes);
    *low = load_big_endian64(bytes + 8);
}

uint16_t bf_udp_batch_in_port(const bf_udp_batch *batch, int index) {
    // sin_port and sin6_port sit at the same offset.
    return ntohs(batch->in_addresses[index].sin6_port);
}

uint8_t *bf_udp_batch_out_data(bf_udp_batch *batch, int index) {
    return batch->out_buffers + (size_t)index * (size_t)batch->buffer_size;
}

void bf_udp_batch_out_set_v4(bf_udp_batch *batch, int index, int length, uint32_t address, uint16_t port) {
    struct sockaddr_in *destination = (struct sockaddr_in *)&batch->out_addresses[index];
    destination->sin_family = AF_INET;
    destination->sin_port = htons(port);
    destination->sin_addr.s_addr = htonl(address);
    batch->out_vectors[index].iov_len = (size_t)length;
    batch->out_headers[index].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
}

void bf_udp_batch_out_set_v6(bf_udp_batch *batch, int index, int length, uint64_t high, uint64_t low, uint16_t port) {
    struct sockaddr_in6 *destination = &batch->out_addresses[index];
    memset(destination, 0, sizeof(*destination));
    destination->sin6_family = AF_INET6;
    destination->sin6_port = htons(port);
    for (int i = 0; i < 8; i++) {
        destination->sin6_addr.s6_addr[i] = (uint8_t)(high >> (56 - 8 * i));
        destination->sin6_addr.s6_addr[8 + i] = (uint8_t)(low >> (56 - 8 * i));
    }
    batch->out_vectors[index].iov_len = (size_t)length;
    batch->out_headers[index].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
}

int bf_udp_batch_send(bf_udp_batch *batch, int fd, int count) {
    return bf_udp_batch_send_from(batch, fd, 0, count);
}

int bf_udp_batch_send_from(bf_udp_batch *batch, int fd, int first, int count) {
    int sent = 0;
    int next = first;
    count += first;
    while (next < count) {
        int result = sendmmsg(fd, batch->out_headers + next, (unsigned)(count - next), MSG_DONTWAIT);
        if (result > 0) {
            sent += result;
            next += result;
        } else if (result < 0 && errno == EINTR) {
            continue;
        } else {
            // The datagram at `next` was refused (buffer full, unreachable): skip it.
            next += 1;
        }
    }
    return sent;
}

int bf_udp_open(int family, const uint8_t *address, uint16_t port, int reuse_port, int receive_buffer,
                int send_buffer) {
    int domain = family == 6 ? AF_INET6 : AF_INET;
    int fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) goto fail;
    if (family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) goto fail;
    if (receive_buffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    if (send_buffer > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
    int result;
    if (family == 6) {
        struct sockaddr_in6 local;
        memset(&local, 0, sizeof(local));
        local.sin6_family = AF_INET6;
        local.sin6_port = htons(port);
        memcpy(local.sin6_addr.s6_addr, address, 16);
        result = bind(fd, (struct sockaddr *)&local, sizeof(local));
    } else {
        struct sockaddr_in local;
        memset(&local, 0, sizeof(local));
        local.sin_family = AF_INET;
        local.sin_port = htons(port);
        memcpy(&local.sin_addr.s_addr, address, 4);
        result = bind(fd, (struct sockaddr *)&local, sizeof(local));
    }
    if (result != 0) goto fail;
    return fd;
fail:;
    int error = errno;
    close(fd);
    return -error;
}

int bf_udp_local_port(int fd) {
    struct sockaddr_in6 local;
    socklen_t length = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &length) != 0) return -errno;
    return ntohs(local.sin6_port);
}

int bf_udp_wait(const int *fds, int count, int timeout_ms, uint8_t *ready) {
    struct pollfd polls[1024];
    if (count > 1024) count = 1024;
    for (int i = 0; i < count; i++) {
        polls[i].fd = fds[i];
        polls[i].events = POLLIN;
        polls[i].revents = 0;
        ready[i] = 0;
    }
    int result = poll(polls, (nfds_t)count, timeout_ms);
    if (result < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < count; i++) {
        if (polls[i].revents & (POLLIN | POLLERR)) ready[i] = 1;
    }
    return result;
}

int bf_udp_epoll_create(const int *fds, int count) {
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) return -errno;
    for (int i = 0; i < count; i++) {
        struct epoll_event event;
        memset(&event, 0, sizeof(event));
        event.events = EPOLLIN;
        event.data.u32 = (uint32_t)i;
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fds[i], &event) != 0) {
            int error = errno;
            close(epoll_fd);
            return -error;
        }
    }
    return epoll_fd;
}

int bf_udp_epoll_wait(int epoll_fd, int timeout_ms, int *ready, int max) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int count = epoll_wait(epoll_fd, events, max, timeout_ms);
    if (count < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < count; i++) ready[i] = (int)events[i].data.u32;
    return count;
}
