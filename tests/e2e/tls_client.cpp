#include "tests/e2e/tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

namespace cdrd::test {
namespace {

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

}  // namespace

HttpResponse https_request(int port, const std::string& ca_file, const std::string& method, const std::string& target,
                           const std::string& body, const std::map<std::string, std::string>& headers,
                           std::string* tls_error) {
  std::string ignored;
  std::string& error = tls_error ? *tls_error : ignored;
  error.clear();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket failed";
    return {};
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    error = "connect failed";
    return {};
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  // The daemon may close without close_notify once the reply is sent.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  HttpResponse resp;
  SSL* ssl = nullptr;
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    error = "cannot load CA " + ca_file + ": " + openssl_errors();
  } else {
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    if (SSL_connect(ssl) != 1) {
      const long verify = SSL_get_verify_result(ssl);
      error = "handshake failed: " + openssl_errors() +
              (verify != X509_V_OK ? std::string(" (verify: ") + X509_verify_cert_error_string(verify) + ")" : "");
    } else {
      std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
      for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
      if (!body.empty() || method == "POST" || method == "PUT")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      req += "\r\n" + body;
      if (SSL_write(ssl, req.data(), static_cast<int>(req.size())) != static_cast<int>(req.size())) {
        error = "write failed: " + openssl_errors();
      } else {
        std::string raw;
        char buf[65536];
        for (;;) {
          const int n = SSL_read(ssl, buf, sizeof(buf));
          if (n <= 0) break;
          raw.append(buf, static_cast<size_t>(n));
        }
        resp = parse_http_response(raw);
        if (resp.status == 0) error = "no HTTP answer (" + std::to_string(raw.size()) + " bytes)";
      }
    }
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  SSL_CTX_free(ctx);
  ::close(fd);
  ERR_clear_error();
  return resp;
}

bool make_test_certificate(const std::string& dir, const std::string& name, std::string* error) {
  const std::string base = dir + "/" + name;
  const std::string cmd =
      std::string("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj ") +
      "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + base + ".key -out " + base + ".crt >" + base +
      ".log 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    *error = "'" + cmd + "' failed (" + std::to_string(rc) + "), see " + base + ".log";
    return false;
  }
  return true;
}

}  // namespace cdrd::test
