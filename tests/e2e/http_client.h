// A blocking HTTP/1.1 client for tests: one request per connection
// (Connection: close), loopback only.
#pragma once

#include <map>
#include <string>

namespace cdrd::test {

struct HttpResponse {
  int status = 0;                              // 0 = could not connect / no answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

HttpResponse http_request(int port, const std::string& method, const std::string& target, const std::string& body = "",
                          const std::map<std::string, std::string>& headers = {});

// A whole response as read up to the server's close: status line, headers
// (lower-case names), and the body (de-chunked); status 0 if it is none.
HttpResponse parse_http_response(const std::string& raw);

std::string url_encode(const std::string& s);
std::string base64_encode(const std::string& s);

}  // namespace cdrd::test
