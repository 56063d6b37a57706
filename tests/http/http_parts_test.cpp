// Unit tests of the HTTP layer's parts that need no server: the keyset
// cursor codec, the loop hand-off queue, the rejects store, key scoping.
#include <event2/event.h>
#include <event2/thread.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "daemon/api/api_auth.h"
#include "daemon/api/api_query.h"
#include "daemon/api/api_request.h"
#include "daemon/api/cdr_store.h"
#include "daemon/http/loop_base.h"
#include "daemon/http/loop_task_queue.h"
#include "daemon/ingest/reject_store.h"

namespace cdrd {
namespace {

TEST(CursorTest, RoundTripsAndIsUrlSafe) {
  const CdrCursor in{63682885615LL, "201801-3da8bf84-c133-4959-9e24-e72875cb33a1"};
  const std::string key = encode_cursor(in);
  EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  CdrCursor out;
  ASSERT_TRUE(decode_cursor(key, &out));
  EXPECT_EQ(out.gregorian_ts, 63682885615LL);
  EXPECT_EQ(out.id, in.id);
  // Ids with any bytes survive (call ids are arbitrary SIP strings).
  const CdrCursor odd{1, "201801-a:b/c+d==?&"};
  ASSERT_TRUE(decode_cursor(encode_cursor(odd), &out));
  EXPECT_EQ(out.id, odd.id);
}

TEST(CursorTest, RefusesForgedKeys) {
  CdrCursor out;
  EXPECT_FALSE(decode_cursor("", &out));
  EXPECT_FALSE(decode_cursor("forged!", &out));
  EXPECT_FALSE(decode_cursor("bm9jb2xvbg", &out));            // "nocolon"
  EXPECT_FALSE(decode_cursor("eDoyMDE4MDE", &out));           // "x:201801": not a number
  EXPECT_FALSE(decode_cursor(std::string(5000, 'A'), &out));  // absurd length
}

// The ingest loop's base: epoll with the changelist (loop_base.h says why).
TEST(LoopBaseTest, IsEpollWithTheChangelist) {
  event_base* base = new_loop_base();
  ASSERT_NE(base, nullptr);
  EXPECT_STREQ(event_base_get_method(base), "epoll (with changelist)");
  event_base_free(base);
}

// On the loop's own base, as the daemon runs it.
TEST(LoopTaskQueueTest, RunsTasksFromOtherThreadsOnTheLoopThread) {
  evthread_use_pthreads();
  event_base* base = new_loop_base();
  std::atomic<int> ran{0};
  std::thread::id loop_thread;
  std::atomic<bool> all_on_loop{true};
  {
    LoopTaskQueue queue(base);
    constexpr int kThreads = 4, kEach = 500;
    std::vector<std::thread> posters;
    posters.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      posters.emplace_back([&] {
        for (int i = 0; i < kEach; ++i) {
          queue.post([&] {
            if (std::this_thread::get_id() != loop_thread) all_on_loop = false;
            if (++ran == kThreads * kEach) event_base_loopbreak(base);
          });
        }
      });
    }
    loop_thread = std::this_thread::get_id();
    // A timer keeps the loop alive until every task ran (bounded by the test timeout).
    event* keepalive = event_new(
        base, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    const timeval tv{0, 100000};
    event_add(keepalive, &tv);
    event_base_dispatch(base);
    for (auto& p : posters) p.join();
    event_free(keepalive);
  }
  event_base_free(base);
  EXPECT_EQ(ran.load(), 2000);
  EXPECT_TRUE(all_on_loop.load());
}

TEST(RejectStoreTest, KeepsTheRawBytesAndTheReason) {
  char tmpl[] = "/tmp/cdrd-rejects-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/rejects";
  {
    RejectStore store(dir);
    RejectedInput input;
    input.request_id = "req-1";
    input.route = "/ingest/freeswitch/json";
    input.code = "invalid_json";
    input.message = "not JSON at offset 0";
    input.body = std::string("raw\0bytes\n", 10);
    std::promise<bool> saved;
    store.save(input, [&](bool ok) { saved.set_value(ok); });
    EXPECT_TRUE(saved.get_future().get());
  }
  int bodies = 0, metas = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    std::ifstream in(e.path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(name.find("req-1"), std::string::npos);
    if (name.size() > 5 && name.substr(name.size() - 5) == ".body") {
      ++bodies;
      EXPECT_EQ(content, std::string("raw\0bytes\n", 10));
    } else {
      ++metas;
      EXPECT_NE(content.find("\"code\":\"invalid_json\""), std::string::npos) << content;
      EXPECT_NE(content.find("not JSON at offset 0"), std::string::npos);
    }
  }
  EXPECT_EQ(bodies, 1);
  EXPECT_EQ(metas, 1);
  std::filesystem::remove_all(tmpl);
}

TEST(RejectStoreTest, UnwritableDirectoryIsReported) {
  EXPECT_THROW(RejectStore("/proc/cdrd-cannot-be-here/rejects"), std::runtime_error);
}

TEST(ApiAuthTest, KeysSeeOnlyTheirAccounts) {
  ApiAuth auth({{"k-all", {"*"}}, {"k-ab", {"acct-a", "acct-b"}}});
  EXPECT_EQ(auth.find(""), nullptr);
  EXPECT_EQ(auth.find("k-al"), nullptr);
  EXPECT_EQ(auth.find("k-all-x"), nullptr);
  const ApiKey* all = auth.find("k-all");
  ASSERT_NE(all, nullptr);
  EXPECT_TRUE(ApiAuth::allows(*all, "anything"));
  const ApiKey* ab = auth.find("k-ab");
  ASSERT_NE(ab, nullptr);
  EXPECT_TRUE(ApiAuth::allows(*ab, "acct-b"));
  EXPECT_FALSE(ApiAuth::allows(*ab, "acct-c"));
  EXPECT_FALSE(ApiAuth::allows(*ab, "*"));
}

}  // namespace
// Found by fuzz/api_query_fuzzer: 19 digits past INT64_MAX overflowed (UB)
// instead of being refused.
TEST(ApiQueryTest, ParseInt64RefusesValuesPastInt64Max) {
  int64_t v = -1;
  EXPECT_TRUE(parse_int64("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_FALSE(parse_int64("9223372036854775808", &v));
  EXPECT_FALSE(parse_int64("9999999999999999999", &v));
  EXPECT_EQ(v, INT64_MAX);  // untouched when refused
}

TEST(ApiQueryTest, HugePageSizeIsA400NamingIt) {
  ApiParams params;
  ASSERT_TRUE(parse_api_query_string("page_size=9999999999999999999", &params));
  CdrListQuery q;
  bool stream = false;
  ApiError err;
  EXPECT_FALSE(parse_list_query(params, "acct", false, 63681984005, &q, &stream, &err));
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.message, "page_size: expected an integer from 1 to 1000, got '9999999999999999999'");
}

TEST(ApiQueryTest, QueryStringNamesAreDecodedAndTheFirstValueWins) {
  ApiParams params;
  ASSERT_TRUE(parse_api_query_string("filter_custom_channel_vars.owner%5Fid=o%201&page_size=5&page_size=7", &params));
  EXPECT_EQ(params.at("filter_custom_channel_vars.owner_id"), "o 1");
  EXPECT_EQ(params.at("page_size"), "5");
  CdrListQuery q;
  bool stream = true;
  ApiError err;
  ASSERT_TRUE(parse_list_query(params, "acct", false, 63681984005, &q, &stream, &err)) << err.message;
  EXPECT_FALSE(stream);
  EXPECT_EQ(q.page_size, 5u);
  EXPECT_EQ(q.to_gregorian, 63681984005);
  EXPECT_EQ(q.from_gregorian, 63681984005 - 2682000);  // Kazoo's window: 31 days and an hour
  ASSERT_EQ(q.filters.size(), 1u);
  EXPECT_EQ(q.filters[0].value, "o 1");
}

}  // namespace cdrd
