// TLS for one HTTP listener (listen.http_tls_*, listen.api_tls_*): an OpenSSL
// server context loaded from PEM files, and the evhttp bufferevent callback
// that makes every accepted connection speak TLS through libevent's
// bufferevent_openssl. Loop thread only, like the evhttp that uses it.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

struct bufferevent;
struct event_base;

namespace cdrd {

struct Config;

class TlsContext {
 public:
  // `key_prefix` names the listener's keys in messages: "listen.http" ->
  // listen.http_tls_cert / listen.http_tls_key. Loads the certificate chain
  // and the private key and checks that they belong together; TLS 1.2 at
  // least. Null with *error naming the key and the file otherwise.
  static std::unique_ptr<TlsContext> load(const std::string& key_prefix, const std::string& cert_file,
                                          const std::string& key_file, std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ssl_ctx() const { return ctx_; }

  // For evhttp_set_bevcb(http, &TlsContext::new_connection, context): a
  // server-side TLS bufferevent whose socket evhttp sets afterwards.
  static bufferevent* new_connection(event_base* base, void* context);

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// Loads the TLS pair of every listener that has one (cdrd --check-config and
// the start): false with *error from TlsContext::load. The config loader has
// already refused a cert without its key and the other way round.
bool check_listener_tls(const Config& config, std::string* error);

}  // namespace cdrd
