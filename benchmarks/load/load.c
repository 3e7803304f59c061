/* Load client for benchmarks/bench_echo.py and bench_uvicorn.py, in C so that it is not what
 * bounds the rate (node's ws client took more than a core of this 2-core
 * machine to keep a wsframe server 80% busy).
 *
 *   cc -O2 -o load load.c
 *   ./load <port> <connections> <round trips in all> <message size> <seconds at most>
 *
 * Connects to 127.0.0.1:<port>, upgrades each connection, then each sends a
 * masked binary message of the given size and waits for the whole echo,
 * again and again, until the round trips are done or the time is up. The
 * frame is built once (one masking key for all: the server does not judge
 * keys, and building frames is not what is measured). Prints one JSON line:
 * round trips, seconds, and the round-trip times' 50th and 99th percentiles
 * in microseconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    double sent_at;
    uint64_t expected;   /* payload bytes of the echo still to come */
    uint8_t head[14];    /* the echo frame's header while it arrives */
    size_t head_length;
    uint64_t payload_left;
} connection;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void write_all(int fd, const uint8_t *data, size_t length) {
    while (length) {
        ssize_t n = write(fd, data, length);
        if (n <= 0) die("write");
        data += n;
        length -= (size_t)n;
    }
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bytes a server frame's header takes, once its first two bytes are known. */
static size_t header_length(const uint8_t *head) {
    uint8_t code = head[1] & 0x7F;
    return code == 126 ? 4 : code == 127 ? 10 : 2;
}

static uint64_t payload_length(const uint8_t *head) {
    uint8_t code = head[1] & 0x7F;
    uint64_t length = 0;
    if (code < 126) return code;
    for (size_t i = 2; i < (code == 126 ? 4u : 10u); i++) length = (length << 8) | head[i];
    return length;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s port connections round-trips size seconds\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), count = atoi(argv[2]);
    long total = atol(argv[3]);
    size_t size = (size_t)atol(argv[4]);
    double limit = atof(argv[5]);

    /* The frame: FIN + binary, the mask bit, the shortest length form, key, masked payload. */
    uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t header = 2 + (size < 126 ? 0 : size < 65536 ? 2 : 8) + 4;
    uint8_t *frame = malloc(header + size);
    if (!frame) die("malloc");
    frame[0] = 0x82;
    if (size < 126) {
        frame[1] = 0x80 | (uint8_t)size;
    } else if (size < 65536) {
        frame[1] = 0x80 | 126;
        frame[2] = (uint8_t)(size >> 8);
        frame[3] = (uint8_t)size;
    } else {
        frame[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) frame[2 + i] = (uint8_t)((uint64_t)size >> (56 - 8 * i));
    }
    memcpy(frame + header - 4, key, 4);
    for (size_t i = 0; i < size; i++) frame[header + i] = (uint8_t)('a' ^ key[i & 3]);

    connection *connections = calloc((size_t)count, sizeof(connection));
    struct pollfd *polls = calloc((size_t)count, sizeof(struct pollfd));
    double *times = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
    uint8_t *buffer = malloc(1 << 20);
    if (!connections || !polls || !times || !buffer) die("malloc");

    for (int c = 0; c < count; c++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {0};
        address.sin_family = AF_INET;
        address.sin_port = htons((uint16_t)port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char request[512];
        int length = snprintf(request, sizeof(request),
                              "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                              port);
        write_all(fd, (const uint8_t *)request, (size_t)length);
        /* Read the response head byte by byte, so no frame byte is taken with it. */
        char response[4096];
        size_t got = 0;
        while (got < 4 || memcmp(response + got - 4, "\r\n\r\n", 4) != 0) {
            if (got == sizeof(response) || read(fd, response + got, 1) != 1) die("handshake");
            got++;
        }
        if (strncmp(response, "HTTP/1.1 101 ", 13) != 0) {
            fprintf(stderr, "handshake refused: %.*s\n", (int)got, response);
            return 1;
        }
        connections[c].fd = fd;
        polls[c].fd = fd;
        polls[c].events = POLLIN;
    }

    long done = 0, in_flight = 0;
    double started = now();
    for (int c = 0; c < count && in_flight < total; c++) {
        connections[c].sent_at = now();
        connections[c].expected = size;
        write_all(connections[c].fd, frame, header + size);
        in_flight++;
    }
    while (done < total && now() - started < limit) {
        int ready = poll(polls, (nfds_t)count, 100);
        if (ready < 0) die("poll");
        for (int c = 0; c < count && ready > 0; c++) {
            if (!(polls[c].revents & POLLIN)) continue;
            ready--;
            connection *conn = &connections[c];
            ssize_t n = read(conn->fd, buffer, 1 << 20);
            if (n <= 0) {
                fprintf(stderr, "the server closed a connection\n");
                return 1;
            }
            size_t position = 0;
            while (position < (size_t)n) {
                if (conn->payload_left == 0 && (conn->head_length < 2 ||
                                                 conn->head_length < header_length(conn->head))) {
                    conn->head[conn->head_length++] = buffer[position++];
                    if (conn->head_length >= 2 && conn->head_length == header_length(conn->head)) {
                        conn->payload_left = payload_length(conn->head);
                        if (conn->payload_left == 0) conn->head_length = 0;
                    }
                    continue;
                }
                size_t take = (size_t)n - position;
                if (take > conn->payload_left) take = (size_t)conn->payload_left;
                position += take;
                conn->payload_left -= take;
                conn->expected -= take < conn->expected ? take : conn->expected;
                if (conn->payload_left == 0) conn->head_length = 0;
                if (conn->payload_left == 0 && conn->expected == 0) {
                    times[done++] = (now() - conn->sent_at) * 1e6;
                    in_flight--;
                    if (done + in_flight < total) {
                        conn->sent_at = now();
                        conn->expected = size;
                        write_all(conn->fd, frame, header + size);
                        in_flight++;
                    }
                }
            }
        }
    }
    double seconds = now() - started;
    qsort(times, (size_t)done, sizeof(double), compare);
    double p50 = done ? times[(size_t)(0.5 * done)] : 0, p99 = done ? times[(size_t)(0.99 * done)] : 0;
    printf("{\"roundTrips\": %ld, \"seconds\": %.6f, \"p50\": %.1f, \"p99\": %.1f}\n", done, seconds, p50, p99);
    return 0;
}
