// loadgen: a small closed-loop HTTP/1.1 load generator for bench/peer_bench.py.
//
// Why: wrk reports one latency distribution over every response, so with a small
// per-model queue the fast 503s hide the latency of the 200s. loadgen records the
// status code and latency of each response and prints percentiles per status code.
//
// How: -c keep-alive connections, one thread each, blocking send/recv in a closed loop
// (send the request, read the whole response, repeat) for -d seconds. No new request
// starts after that; requests in flight finish (bounded by --timeout), and duration_s
// is the wall time until the last one did. Latency runs from the first byte sent to the
// last byte read (steady_clock); connecting is not part of it. A connection the server
// closes (`Connection: close`, HTTP/1.0, a body delimited by close) is reopened and
// counted under reconnects. Socket errors are counted apart from responses: connect,
// read (also a closed or malformed response), write, timeout (no byte for --timeout s).
//
// Usage: loadgen --url http://HOST:PORT/PATH [-c 1] [-d 10] [--body FILE]
//                [--header 'Name: value']... [--method POST|GET|...] [--timeout 60]
// Prints one JSON object on stdout. Build: bash bench/setup-peer.sh.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host, port = "80", path = "/", method, body;
  std::vector<std::string> headers;
  int connections = 1, timeout_s = 60;
  double seconds = 10;
};

struct Sample {
  int status;
  int64_t us;
};

struct Worker {  // what one connection's thread saw
  std::vector<Sample> samples;
  uint64_t connect = 0, read = 0, write = 0, timeout = 0, reconnects = 0;
};

enum class Io { kOk, kError, kTimeout };

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen --url http://HOST:PORT/PATH [-c N] [-d SECONDS] "
               "[--body FILE] [--header 'Name: value']... [--method M] [--timeout SECONDS]\n",
               why.c_str());
  std::exit(2);
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

void ParseUrl(const std::string& url, Options& o) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) Usage("only http:// URLs are supported: " + url);
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  if (slash != std::string::npos) o.path = rest.substr(slash);
  std::string authority = rest.substr(0, slash);
  size_t colon = authority.rfind(':');
  o.host = authority.substr(0, colon);
  if (colon != std::string::npos) o.port = authority.substr(colon + 1);
  if (o.host.empty() || o.port.empty()) Usage("bad URL: " + url);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage("missing value after " + a);
    std::string v = argv[++i];
    if (std::string(" --url -c -d --body --header --method --timeout ").find(" " + a + " ") ==
        std::string::npos)
      Usage("unknown option " + a);
    if (a == "--url") url = v;
    if (a == "-c") o.connections = std::atoi(v.c_str());
    if (a == "-d") o.seconds = std::atof(v.c_str());
    if (a == "--header") o.headers.push_back(v);
    if (a == "--method") o.method = v;
    if (a == "--timeout") o.timeout_s = std::atoi(v.c_str());
    if (a == "--body") {
      std::ifstream f(v, std::ios::binary);
      if (!f) Usage("cannot read " + v);
      o.body.assign(std::istreambuf_iterator<char>(f), {});
    }
  }
  if (url.empty() || o.connections < 1 || o.seconds <= 0 || o.timeout_s < 1)
    Usage("need --url, -c >= 1, -d > 0, --timeout >= 1");
  ParseUrl(url, o);
  if (o.method.empty()) o.method = o.body.empty() ? "GET" : "POST";
  return o;
}

std::string BuildRequest(const Options& o) {
  std::string r = o.method + " " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + o.port + "\r\n";
  for (const std::string& h : o.headers) r += h + "\r\n";
  if (!o.body.empty() || o.method == "POST" || o.method == "PUT")
    r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
  return r + "\r\n" + o.body;
}

// Buffered reads from one connection; every recv waits at most the socket's SO_RCVTIMEO.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  Io Line(std::string& out) {  // the next line, without its CRLF
    size_t eol;
    while ((eol = buf_.find("\r\n", pos_)) == std::string::npos) {
      if (Io io = Fill(); io != Io::kOk) return io;
    }
    out.assign(buf_, pos_, eol - pos_);
    pos_ = eol + 2;
    return Io::kOk;
  }

  Io Skip(uint64_t n) {  // consumes n bytes
    while (buf_.size() - pos_ < n) {
      n -= buf_.size() - pos_;
      pos_ = buf_.size();
      if (Io io = Fill(); io != Io::kOk) return io;
    }
    pos_ += n;
    return Io::kOk;
  }

  Io SkipToClose() {  // a body delimited by the server closing the connection
    Io io;
    while ((io = Fill()) == Io::kOk) pos_ = buf_.size();
    return eof_ ? Io::kOk : io;
  }

 private:
  Io Fill() {
    if (pos_ > 0) buf_.erase(0, std::exchange(pos_, 0));
    char chunk[16384];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      return Io::kOk;
    }
    eof_ = n == 0;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::kTimeout : Io::kError;
  }

  int fd_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

Io SkipChunked(Reader& r) {  // chunk sizes (extensions ignored), data, then trailers
  std::string line;
  for (;;) {
    if (Io io = r.Line(line); io != Io::kOk) return io;
    char* end = nullptr;
    unsigned long long n = std::strtoull(line.c_str(), &end, 16);
    if (end == line.c_str()) return Io::kError;
    if (n == 0) break;
    if (Io io = r.Skip(n + 2); io != Io::kOk) return io;  // data and its CRLF
  }
  do {
    if (Io io = r.Line(line); io != Io::kOk) return io;
  } while (!line.empty());
  return Io::kOk;
}

// Reads one response: sets status, and keep_alive to whether the connection stays usable.
Io ReadResponse(Reader& r, bool head, int& status, bool& keep_alive) {
  std::string line;
  if (Io io = r.Line(line); io != Io::kOk) return io;
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) return Io::kError;
  status = std::atoi(line.c_str() + 9);
  if (status < 200) return Io::kError;  // 1xx: never asked for (no Expect, no Upgrade sent)
  keep_alive = line[7] != '0';          // HTTP/1.0 closes unless it says keep-alive
  int64_t length = -1;
  bool chunked = false;
  for (;;) {
    if (Io io = r.Line(line); io != Io::kOk) return io;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return Io::kError;
    std::string name = Lower(line.substr(0, colon)), value = Lower(line.substr(colon + 1));
    if (name == "content-length") length = std::atoll(value.c_str());
    if (name == "transfer-encoding") chunked = value.find("chunked") != std::string::npos;
    if (name == "connection" && value.find("close") != std::string::npos) keep_alive = false;
    if (name == "connection" && value.find("keep-alive") != std::string::npos) keep_alive = true;
  }
  if (head || status == 204 || status == 304) return Io::kOk;
  if (chunked) return SkipChunked(r);
  if (length >= 0) return r.Skip(static_cast<uint64_t>(length));
  keep_alive = false;
  return r.SkipToClose();
}

int Connect(const addrinfo* addrs, int timeout_s) {  // tries each address in turn
  for (const addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_s, 0};  // SO_SNDTIMEO also bounds connect()
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    close(fd);
  }
  return -1;
}

Io SendAll(int fd, const std::string& data) {
  for (size_t sent = 0; sent < data.size();) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Io::kTimeout : Io::kError;
    sent += static_cast<size_t>(n);
  }
  return Io::kOk;
}

// One connection's closed loop until `end`; the request in flight at `end` finishes.
void Run(const Options& o, const addrinfo* ai, const std::string& request, Clock::time_point end,
         Worker& w) {
  const bool head = o.method == "HEAD";
  int fd = -1;
  bool connected_before = false;
  Reader reader(-1);
  while (Clock::now() < end) {
    if (fd < 0) {
      if ((fd = Connect(ai, o.timeout_s)) < 0) {
        ++w.connect;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      w.reconnects += connected_before;
      connected_before = true;
      reader = Reader(fd);
    }
    Clock::time_point t0 = Clock::now();
    int status = 0;
    bool keep_alive = false;
    Io io = SendAll(fd, request);
    if (io != Io::kOk) {
      ++(io == Io::kTimeout ? w.timeout : w.write);
    } else if ((io = ReadResponse(reader, head, status, keep_alive)) != Io::kOk) {
      ++(io == Io::kTimeout ? w.timeout : w.read);
    } else {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
      w.samples.push_back({status, us.count()});
    }
    if (io != Io::kOk || !keep_alive) close(std::exchange(fd, -1));
  }
  if (fd >= 0) close(fd);
}

// {"count", "rps", percentiles in ms} of latencies (sorted here).
std::string Summary(std::vector<int64_t>& us, double seconds) {
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    if (us.empty()) return 0.0;
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(us.size())));
    return static_cast<double>(us[std::clamp<size_t>(rank, 1, us.size()) - 1]) / 1000.0;
  };
  char out[256];
  std::snprintf(out, sizeof out,
                "{\"count\": %zu, \"rps\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
                "\"p99_ms\": %.3f, \"max_ms\": %.3f}",
                us.size(), static_cast<double>(us.size()) / seconds, pct(50), pct(90), pct(99),
                us.empty() ? 0.0 : static_cast<double>(us.back()) / 1000.0);
  return out;
}

void Report(const Options& o, const std::vector<Worker>& workers, double seconds) {
  Worker total;
  std::map<int, std::vector<int64_t>> by_status;
  std::vector<int64_t> all;
  for (const Worker& w : workers) {
    total.connect += w.connect, total.read += w.read, total.write += w.write;
    total.timeout += w.timeout, total.reconnects += w.reconnects;
    for (const Sample& s : w.samples) by_status[s.status].push_back(s.us), all.push_back(s.us);
  }
  std::ostringstream j;
  j << "{\"duration_s\": " << seconds << ", \"connections\": " << o.connections
    << ", \"requests\": " << all.size() << ", \"errors\": {\"connect\": " << total.connect
    << ", \"read\": " << total.read << ", \"write\": " << total.write
    << ", \"timeout\": " << total.timeout << "}, \"reconnects\": " << total.reconnects
    << ", \"status\": {";
  const char* sep = "";
  for (auto& [status, us] : by_status) {
    j << sep << "\"" << status << "\": " << Summary(us, seconds);
    sep = ", ";
  }
  j << "}, \"all\": " << Summary(all, seconds) << "}\n";
  std::fputs(j.str().c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  addrinfo hints{}, *ai = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &ai); rc != 0)
    Usage("cannot resolve " + o.host + ": " + gai_strerror(rc));
  const std::string request = BuildRequest(o);
  std::vector<Worker> workers(static_cast<size_t>(o.connections));
  Clock::time_point start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (Worker& w : workers)
    threads.emplace_back(Run, std::cref(o), ai, std::cref(request), end, std::ref(w));
  for (std::thread& t : threads) t.join();
  Report(o, workers, std::chrono::duration<double>(Clock::now() - start).count());
  freeaddrinfo(ai);
  return 0;
}
