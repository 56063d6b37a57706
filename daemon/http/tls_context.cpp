#include "daemon/http/tls_context.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "daemon/config/config.h"

namespace cdrd {
namespace {

// The most recent OpenSSL errors, oldest first, then the queue is cleared
// (it is per thread and would otherwise show up in an unrelated message).
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// OpenSSL's message for a missing file is "system lib"; say it plainly.
bool readable(const std::string& key, const std::string& file, std::string* error) {
  if (::access(file.c_str(), R_OK) == 0) return true;
  *error = key + ": cannot read '" + file + "': " + std::strerror(errno);
  return false;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::load(const std::string& key_prefix, const std::string& cert_file,
                                             const std::string& key_file, std::string* error) {
  const std::string cert_key = key_prefix + "_tls_cert";
  const std::string key_key = key_prefix + "_tls_key";
  if (!readable(cert_key, cert_file, error) || !readable(key_key, key_file, error)) return nullptr;
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    *error = key_prefix + ": cannot create a TLS context: " + openssl_errors();
    return nullptr;
  }
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  // TLS 1.0 and 1.1 are deprecated (RFC 8996). Client-initiated
  // renegotiation only costs the server CPU.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    *error = cert_key + ": '" + cert_file + "' is not a PEM certificate chain: " + openssl_errors();
    return nullptr;
  }
  // SSL_CTX_use_PrivateKey_file already refuses a key of another
  // certificate (X509_R_KEY_VALUES_MISMATCH); SSL_CTX_check_private_key then
  // covers what it lets through.
  const bool key_loaded = SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  const unsigned long key_error = key_loaded ? 0 : ERR_peek_last_error();
  if (!key_loaded &&
      !(ERR_GET_LIB(key_error) == ERR_LIB_X509 && ERR_GET_REASON(key_error) == X509_R_KEY_VALUES_MISMATCH)) {
    *error = key_key + ": '" + key_file + "' is not a PEM private key: " + openssl_errors();
    return nullptr;
  }
  if (!key_loaded || SSL_CTX_check_private_key(ctx) != 1) {
    *error = key_key + ": the key in '" + key_file + "' does not match the certificate in '" + cert_file + "' (" +
             cert_key + "): " + openssl_errors();
    return nullptr;
  }
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

bufferevent* TlsContext::new_connection(event_base* base, void* context) {
  // fd -1: evhttp sets the accepted socket on the bufferevent itself.
  // BEV_OPT_CLOSE_ON_FREE frees the SSL and closes the socket with it.
  SSL* ssl = SSL_new(static_cast<TlsContext*>(context)->ctx_);
  bufferevent* bev =
      ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) : nullptr;
  if (!bev) {
    // Only when memory runs out. A null return would make evhttp use a plain
    // bufferevent: plain HTTP on a TLS listener. Stop like any failed
    // allocation instead.
    spdlog::critical("TLS: cannot set up a connection: {}", openssl_errors());
    std::abort();
  }
  // Many HTTP clients close without a TLS close_notify; the request framing
  // (Content-Length) already tells a complete request from a cut one.
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

bool check_listener_tls(const Config& config, std::string* error) {
  // Loaded to be checked, then freed: the listeners load their own.
  std::unique_ptr<TlsContext> checked;
  if (!config.listen_http_tls_cert.empty()) {
    checked = TlsContext::load("listen.http", config.listen_http_tls_cert, config.listen_http_tls_key, error);
    if (!checked) return false;
  }
  if (!config.listen_api.empty() && !config.listen_api_tls_cert.empty()) {
    checked = TlsContext::load("listen.api", config.listen_api_tls_cert, config.listen_api_tls_key, error);
    if (!checked) return false;
  }
  return true;
}

}  // namespace cdrd
