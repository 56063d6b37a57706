// Unit tests of HttpErrorJson: libevent 2.1's own HTML error pages become the
// JSON error body, byte for byte as evhttp writes them into a connection's
// output buffer, and cdrd's own replies pass untouched.
#include "daemon/http/http_error_json.h"

#include <event2/buffer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

namespace cdrd {
namespace {

// What evhttp_send_error(req, 413, NULL) writes (evhttp_make_header, then
// the page), one evbuffer_add per line as libevent does.
const std::vector<std::string> kLibevent413 = {
    "HTTP/1.1 413 Request Entity Too Large\r\n",
    "Content-Type: text/html\r\n",
    "Connection: close\r\n",
    "Date: Wed, 25 Nov 2026 01:40:53 GMT\r\n",
    "Content-Length: 138\r\n",
    "\r\n",
    // One element (the page), split to fit the line.
    // NOLINTNEXTLINE(bugprone-suspicious-missing-comma)
    "<HTML><HEAD>\n<TITLE>413 Request Entity Too Large</TITLE>\n</HEAD><BODY>\n<H1>Request Entity Too Large</H1>\n"
    "</BODY></HTML>\n",
};

std::string contents(evbuffer* buf) {
  std::string s(evbuffer_get_length(buf), '\0');
  evbuffer_copyout(buf, s.data(), s.size());
  return s;
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += p;
  return s;
}

TEST(HttpErrorJsonTest, RewritesLibeventPagesIntoTheErrorBody) {
  const std::string json = json_for_libevent_error(join(kLibevent413), 4096, "rid-1");
  EXPECT_EQ(json,
            "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\nContent-Length: 110\r\n"
            "Connection: close\r\nX-Request-Id: rid-1\r\n\r\n"
            "{\"code\":\"body_too_large\",\"message\":\"the body is over limits.max_body_bytes (4096 bytes)\","
            "\"request_id\":\"rid-1\"}");
  std::string bad = join(kLibevent413);
  bad.replace(9, 28, "400 Bad Request");
  EXPECT_NE(json_for_libevent_error(bad, 4096, "r").find("{\"code\":\"bad_request\""), std::string::npos);
  std::string expect = join(kLibevent413);
  expect.replace(9, 28, "417 Expectation Failed");
  EXPECT_NE(json_for_libevent_error(expect, 4096, "r").find("{\"code\":\"expectation_failed\""), std::string::npos);
}

TEST(HttpErrorJsonTest, LeavesOtherRepliesAlone) {
  EXPECT_EQ(json_for_libevent_error("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", 1, "r"), "");
  EXPECT_EQ(json_for_libevent_error("HTTP/1.1 100 Continue\r\n\r\n", 1, "r"), "");
  EXPECT_EQ(json_for_libevent_error("1f\r\n<HTML>\r\nContent-Type: text/html\r\n\r\n", 1, "r"), "");
  EXPECT_EQ(json_for_libevent_error("HTTP/1.1 413 X\r\nContent-Type: text/html\r\n", 1, "r"), "");  // no head end
}

TEST(HttpErrorJsonTest, RewritesInTheOutputBufferAsEvhttpWritesIt) {
  std::atomic<uint64_t> rewritten{0};
  evbuffer* out = evbuffer_new();
  {
    HttpErrorJson watcher;
    watcher.attach(out, 1024, &rewritten);
    // cdrd's own reply, then a chunk of a streamed body: untouched.
    const std::string own = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    evbuffer_add(out, own.data(), own.size());
    EXPECT_EQ(contents(out), own);
    evbuffer_drain(out, own.size());
    evbuffer_add(out, "5\r\nHTTP/\r\n", 10);
    EXPECT_EQ(contents(out), "5\r\nHTTP/\r\n");
    evbuffer_drain(out, 10);
    EXPECT_EQ(rewritten.load(), 0u);

    // libevent's page, line by line: replaced once its body is in.
    for (size_t i = 0; i + 1 < kLibevent413.size(); ++i)
      evbuffer_add(out, kLibevent413[i].data(), kLibevent413[i].size());
    EXPECT_EQ(contents(out), join({kLibevent413.begin(), kLibevent413.end() - 1}));
    evbuffer_add(out, kLibevent413.back().data(), kLibevent413.back().size());
    const std::string now = contents(out);
    EXPECT_EQ(now.rfind("HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n", 0), 0u) << now;
    EXPECT_NE(now.find("\"code\":\"body_too_large\""), std::string::npos);
    EXPECT_NE(now.find("(1024 bytes)"), std::string::npos);
    EXPECT_EQ(rewritten.load(), 1u);
    watcher.detach();
    // Detached: nothing more is touched.
    evbuffer_drain(out, now.size());
    const std::string page = join(kLibevent413);
    evbuffer_add(out, page.data(), page.size());
    EXPECT_EQ(contents(out), page);
  }
  evbuffer_free(out);
}

}  // namespace
}  // namespace cdrd
