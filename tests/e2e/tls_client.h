// A blocking HTTPS client for tests (OpenSSL, one request per connection,
// 127.0.0.1 only) that verifies the server's certificate for IP 127.0.0.1
// against a given CA file, and the test certificates it trusts.
#pragma once

#include <map>
#include <string>

#include "tests/e2e/http_client.h"

namespace cdrd::test {

// status 0 when there was no HTTP answer; then *tls_error (if given) says
// why: the connect, the handshake (with the verify result) or the read.
HttpResponse https_request(int port, const std::string& ca_file, const std::string& method, const std::string& target,
                           const std::string& body = "", const std::map<std::string, std::string>& headers = {},
                           std::string* tls_error = nullptr);

// A self-signed certificate for IP 127.0.0.1 (its own CA) and its key, made
// with the openssl CLI as <dir>/<name>.crt and <dir>/<name>.key. False with
// *error when openssl failed.
bool make_test_certificate(const std::string& dir, const std::string& name, std::string* error);

}  // namespace cdrd::test
