// CdrStore's read queries and cursors against rows inserted with plain SQL.
#include "daemon/api/cdr_store.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <ostream>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "daemon/db/migrations.h"
#include "tests/support/pg_server.h"

#if defined(__SANITIZE_ADDRESS__)
// libpqxx 6.4 leaks the PGresult of the statement that finds the connection
// broken: connection_base::exec() hands PQexec's result to make_result(),
// which throws (no client encoding on a dead connection) before it owns it.
// Only the reconnect test meets this; it is not CdrStore's leak.
extern "C" const char* __lsan_default_suppressions() { return "leak:libpqxx-6.4.so\n"; }
#endif

namespace cdrd::test {
namespace {

constexpr int64_t kGregorianUnixOffset = 62167219200LL;

int64_t gregorian(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) + kGregorianUnixOffset;
}

// 2030-05-20T00:00:00Z: every row of the fixture is near it.
const int64_t kBase = gregorian(2030, 5, 20);

const std::string kAcctA = "acct-a";
const std::string kAcctB = "acct-b";

struct Row {
  std::string id;
  std::string account;
  int64_t gregorian_ts;
};

// Seven rows of acct-a share one timestamp (inserted out of id order): the
// keyset must tell them apart by id.
const std::vector<Row> kRows = {
    {"203005-a1", kAcctA, kBase},
    {"203005-a2", kAcctA, kBase + 10},
    {"203005-a3", kAcctA, kBase + 20},
    {"203005-a4", kAcctA, kBase + 30},
    {"legacy-import-1", kAcctA, kBase + 40},  // no month prefix
    {"199912-old", kAcctA, kBase + 50},       // started long before it ended
    {"203005-t4", kAcctA, kBase + 100},
    {"203005-t1", kAcctA, kBase + 100},
    {"203005-t7", kAcctA, kBase + 100},
    {"203005-t2", kAcctA, kBase + 100},
    {"203005-t6", kAcctA, kBase + 100},
    {"203005-t3", kAcctA, kBase + 100},
    {"203005-t5", kAcctA, kBase + 100},
    {"203005-b1", kAcctB, kBase + 10},
    {"203005-b2", kAcctB, kBase + 100},
    {"203005-b3", kAcctB, kBase + 20},
    // Either side of the May/June partition boundary.
    {"203005-m1", kAcctA, gregorian(2030, 5, 31, 23, 59, 50)},
    {"203005-m2", kAcctA, gregorian(2030, 6, 1, 0, 0, 10)},
};

std::string record_json(const Row& r) {
  return "{\"id\":\"" + r.id + "\",\"account_id\":\"" + r.account +
         "\",\"timestamp\":" + std::to_string(r.gregorian_ts) + "}";
}

std::string parse_id(const std::string& record) {
  rapidjson::Document doc;
  doc.Parse(record);
  return doc.IsObject() && doc.HasMember("id") ? doc["id"].GetString() : "";
}

class CdrStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dsn_ = new std::string(create_migrated_database("cdr_store"));
    pqxx::connection conn(*dsn_);
    std::string error;
    ASSERT_TRUE(apply_migrations(conn, nullptr, &error)) << error;
    const auto may = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(kBase - kGregorianUnixOffset));
    ASSERT_TRUE(ensure_partitions(conn, may, 1, &error)) << error;
    pqxx::work tx(conn);
    for (const Row& r : kRows) {
      tx.exec_params(
          "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record) "
          "VALUES ($1, to_timestamp($2), $3, $4, $1, 'json_cdr', $5)",
          r.id, r.gregorian_ts - kGregorianUnixOffset, r.gregorian_ts, r.account, record_json(r));
    }
    tx.commit();
  }
  static void TearDownTestSuite() {
    delete dsn_;
    dsn_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dsn_, nullptr);
    store_ = std::make_unique<CdrStore>(*dsn_, 10000);
  }

  static CdrListQuery query(const std::string& account, int64_t from, int64_t to, size_t page_size = 1000,
                            bool ascending = false) {
    CdrListQuery q;
    q.account_id = account;
    q.from_gregorian = from;
    q.to_gregorian = to;
    q.page_size = page_size;
    q.ascending = ascending;
    return q;
  }

  // The ids of a page's records, checking that every record is a JSON
  // object of `account`.
  static std::vector<std::string> ids_of(const CdrPage& page, const std::string& account) {
    std::vector<std::string> ids;
    for (const std::string& record : page.records) {
      rapidjson::Document doc;
      doc.Parse(record);
      EXPECT_TRUE(!doc.HasParseError() && doc.IsObject()) << record;
      if (doc.HasParseError() || !doc.IsObject()) continue;
      EXPECT_EQ(std::string(doc["account_id"].GetString()), account) << record;
      ids.emplace_back(doc["id"].GetString());
    }
    return ids;
  }

  std::vector<std::string> list_ids(const CdrListQuery& q) { return ids_of(store_->list(q), q.account_id); }

  // Follows next the way the API does (through the opaque key) until the
  // last page; every page but the last must be full.
  std::vector<std::string> all_pages(CdrListQuery q) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      const CdrPage page = store_->list(q);
      const std::vector<std::string> got = ids_of(page, q.account_id);
      ids.insert(ids.end(), got.begin(), got.end());
      if (!page.next) return ids;
      EXPECT_EQ(got.size(), q.page_size);
      CdrCursor cursor;
      EXPECT_TRUE(decode_cursor(encode_cursor(*page.next), &cursor));
      q.after = cursor;
    }
    ADD_FAILURE() << "paging did not end";
    return ids;
  }

  static std::string* dsn_;
  std::unique_ptr<CdrStore> store_;
};

std::string* CdrStoreTest::dsn_ = nullptr;

using Ids = std::vector<std::string>;

const Ids kNewestFirst = {"203005-t7", "203005-t6", "203005-t5",  "203005-t4",       "203005-t3",
                          "203005-t2", "203005-t1", "199912-old", "legacy-import-1", "203005-a4",
                          "203005-a3", "203005-a2", "203005-a1"};

TEST_F(CdrStoreTest, WindowIsInclusiveAtBothEnds) {
  EXPECT_EQ(list_ids(query(kAcctA, kBase + 10, kBase + 20)), (Ids{"203005-a3", "203005-a2"}));
  EXPECT_EQ(list_ids(query(kAcctA, kBase + 10, kBase + 20, 1000, true)), (Ids{"203005-a2", "203005-a3"}));
  EXPECT_EQ(list_ids(query(kAcctA, kBase + 11, kBase + 19)), Ids{});
  EXPECT_EQ(list_ids(query(kAcctA, kBase + 30, kBase + 30)), Ids{"203005-a4"});
}

TEST_F(CdrStoreTest, NewestFirstUnlessAscending) {
  EXPECT_EQ(list_ids(query(kAcctA, kBase, kBase + 100)), kNewestFirst);
  const Ids oldest_first(kNewestFirst.rbegin(), kNewestFirst.rend());
  EXPECT_EQ(list_ids(query(kAcctA, kBase, kBase + 100, 1000, true)), oldest_first);
}

TEST_F(CdrStoreTest, PageSizeLimitsAndNextPointsAtTheLastRow) {
  const CdrPage page = store_->list(query(kAcctA, kBase, kBase + 30, 2));
  EXPECT_EQ(ids_of(page, kAcctA), (Ids{"203005-a4", "203005-a3"}));
  ASSERT_TRUE(page.next.has_value());
  EXPECT_EQ(page.next->gregorian_ts, kBase + 20);
  EXPECT_EQ(page.next->id, "203005-a3");

  // Exactly page_size rows left: no next.
  const CdrPage full = store_->list(query(kAcctA, kBase, kBase + 30, 4));
  EXPECT_EQ(full.records.size(), 4u);
  EXPECT_FALSE(full.next.has_value());

  CdrListQuery rest = query(kAcctA, kBase, kBase + 30, 2);
  rest.after = page.next;
  const CdrPage second = store_->list(rest);
  EXPECT_EQ(ids_of(second, kAcctA), (Ids{"203005-a2", "203005-a1"}));
  EXPECT_FALSE(second.next.has_value());
}

TEST_F(CdrStoreTest, KeysetPagingVisitsEveryRowOnceAcrossEqualTimestamps) {
  const Ids oldest_first(kNewestFirst.rbegin(), kNewestFirst.rend());
  for (size_t page_size : {1, 2, 3, 5}) {
    SCOPED_TRACE("page_size " + std::to_string(page_size));
    EXPECT_EQ(all_pages(query(kAcctA, kBase, kBase + 100, page_size)), kNewestFirst);
    EXPECT_EQ(all_pages(query(kAcctA, kBase, kBase + 100, page_size, true)), oldest_first);
  }
}

TEST_F(CdrStoreTest, AnotherAccountsRowsNeverAppear) {
  EXPECT_EQ(list_ids(query(kAcctB, kBase, kBase + 100)), (Ids{"203005-b2", "203005-b3", "203005-b1"}));
  EXPECT_EQ(all_pages(query(kAcctB, kBase, kBase + 100, 1)), (Ids{"203005-b2", "203005-b3", "203005-b1"}));
  EXPECT_EQ(list_ids(query("acct-none", kBase, kBase + 100)), Ids{});
  // A cursor taken from acct-b's rows only positions acct-a's listing.
  CdrListQuery q = query(kAcctA, kBase, kBase + 100, 1000);
  q.after = CdrCursor{kBase + 20, "203005-b3"};
  EXPECT_EQ(list_ids(q), (Ids{"203005-a3", "203005-a2", "203005-a1"}));
  // Not UTF-8: no such account, rather than a database error.
  EXPECT_EQ(list_ids(query("acct-\xff", kBase, kBase + 100)), Ids{});
}

TEST_F(CdrStoreTest, ListCrossesMonthPartitions) {
  const int64_t from = gregorian(2030, 5, 31, 23, 0, 0);
  const int64_t to = gregorian(2030, 6, 1, 1, 0, 0);
  EXPECT_EQ(list_ids(query(kAcctA, from, to)), (Ids{"203005-m2", "203005-m1"}));
  EXPECT_EQ(all_pages(query(kAcctA, from, to, 1, true)), (Ids{"203005-m1", "203005-m2"}));
}

TEST_F(CdrStoreTest, GetFindsARecordOnlyInItsAccount) {
  const auto a2 = store_->get(kAcctA, "203005-a2");
  ASSERT_TRUE(a2.has_value());
  rapidjson::Document doc;
  doc.Parse(*a2);
  ASSERT_TRUE(doc.IsObject()) << *a2;
  EXPECT_EQ(std::string(doc["id"].GetString()), "203005-a2");
  EXPECT_EQ(doc["timestamp"].GetInt64(), kBase + 10);

  EXPECT_EQ(store_->get(kAcctB, "203005-a2"), std::nullopt);
  EXPECT_EQ(store_->get(kAcctA, "203005-b1"), std::nullopt);
  EXPECT_EQ(store_->get(kAcctA, "203005-missing"), std::nullopt);
  EXPECT_TRUE(store_->get(kAcctB, "203005-b1").has_value());
  // Rows in the June partition, and ids without (or with an early) month prefix.
  EXPECT_TRUE(store_->get(kAcctA, "203005-m2").has_value());
  EXPECT_TRUE(store_->get(kAcctA, "legacy-import-1").has_value());
  EXPECT_TRUE(store_->get(kAcctA, "199912-old").has_value());
  // Ids from a URL that only look like a month: not found, no database error.
  EXPECT_EQ(store_->get(kAcctA, "203013-x"), std::nullopt);
  EXPECT_EQ(store_->get(kAcctA, "000001-x"), std::nullopt);
  EXPECT_EQ(store_->get(kAcctA, "2030a5-x"), std::nullopt);
  EXPECT_EQ(store_->get(kAcctA, "203005-\xc3"), std::nullopt);
}

TEST_F(CdrStoreTest, ReconnectsWithItsSessionSettingsAfterTheConnectionDrops) {
  ASSERT_EQ(list_ids(query(kAcctA, kBase, kBase)), Ids{"203005-a1"});
  pqxx::connection admin(*dsn_);
  auto reader_pids = [&admin] {
    pqxx::nontransaction tx(admin);
    std::set<int> pids;
    for (const auto& row : tx.exec("SELECT pid FROM pg_stat_activity WHERE application_name = 'cdrd-reader' "
                                   "AND datname = current_database()")) {
      pids.insert(row[0].as<int>());
    }
    return pids;
  };
  const std::set<int> before = reader_pids();
  ASSERT_EQ(before.size(), 1u);
  {
    pqxx::nontransaction tx(admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", *before.begin());
  }
  // The call that finds the connection gone fails; the next one reconnects.
  EXPECT_ANY_THROW(store_->list(query(kAcctA, kBase, kBase)));
  EXPECT_EQ(list_ids(query(kAcctA, kBase, kBase)), Ids{"203005-a1"});
  const std::set<int> after = reader_pids();
  ASSERT_EQ(after.size(), 1u) << "the new session lacks application_name: not set up by CdrStore";
  EXPECT_NE(*after.begin(), *before.begin());
}

// Legs and interactions: rows of several calls, with loopback halves and
// another account's leg under the same interaction_id.
struct LegRow {
  std::string id;
  std::string account;
  std::string interaction;  // empty: NULL
  std::string leg;
  int64_t start_offset;  // seconds after kLegStart
  int64_t gregorian_ts;
  bool loopback;
};

const int64_t kLegStart = kBase - 3600;

const std::vector<LegRow> kLegRows = {
    // call-1: A, B, a loopback pair (its "b" half is an A-leg of its own);
    // acct-b has a leg with the same interaction_id that started first.
    {"203005-c1-a", kAcctA, "call-1", "A", 0, kBase + 100, false},
    {"203005-c1-lb", kAcctA, "call-1", "A", 1, kBase + 100, true},
    {"203005-c1-la", kAcctA, "call-1", "B", 1, kBase + 100, true},
    {"203005-c1-b", kAcctA, "call-1", "B", 2, kBase + 90, false},
    {"203005-x1-a", kAcctB, "call-1", "A", -10, kBase + 100, false},
    // call-2: no A-leg yet but a loopback A half: the B-leg stands for it.
    {"203005-c2-lb", kAcctA, "call-2", "A", 10, kBase + 300, true},
    {"203005-c2-b", kAcctA, "call-2", "B", 11, kBase + 300, false},
    // call-3: loopback halves only.
    {"203005-c3-la", kAcctA, "call-3", "B", 12, kBase + 400, true},
    {"203005-c3-lb", kAcctA, "call-3", "A", 12, kBase + 400, true},
    // No interaction_id: a call alone.
    {"203005-solo", kAcctA, "", "A", 13, kBase + 500, false},
    // call-4..7 end at one timestamp, their B-legs too: paging must skip the
    // B-legs between the A-legs and tell the A-legs apart by id.
    {"203005-c6-b", kAcctA, "call-6", "B", 25, kBase + 600, false},
    {"203005-c4-a", kAcctA, "call-4", "A", 20, kBase + 600, false},
    {"203005-c7-a", kAcctA, "call-7", "A", 26, kBase + 600, false},
    {"203005-c5-b", kAcctA, "call-5", "B", 23, kBase + 600, false},
    {"203005-c4-b", kAcctA, "call-4", "B", 21, kBase + 600, false},
    {"203005-c6-a", kAcctA, "call-6", "A", 24, kBase + 600, false},
    {"203005-c5-a", kAcctA, "call-5", "A", 22, kBase + 600, false},
    {"203005-c7-b", kAcctA, "call-7", "B", 27, kBase + 600, false},
    // call-8: the B-leg ends in the window, the A-leg after it.
    {"203005-c8-a", kAcctA, "call-8", "A", 30, kBase + 2000, false},
    {"203005-c8-b", kAcctA, "call-8", "B", 31, kBase + 700, false},
    // call-9: the B-leg's media server clock is early; the A-leg still stands for the call.
    {"203005-c9-a", kAcctA, "call-9", "A", 50, kBase + 800, false},
    {"203005-c9-b", kAcctA, "call-9", "B", 49, kBase + 800, false},
};

std::string leg_record_json(const LegRow& r) {
  std::string json = "{\"id\":\"" + r.id + "\",\"account_id\":\"" + r.account +
                     "\",\"timestamp\":" + std::to_string(r.gregorian_ts) + ",\"leg\":\"" + r.leg + "\"";
  if (!r.interaction.empty()) json += ",\"interaction_id\":\"" + r.interaction + "\"";
  if (r.loopback) json += ",\"is_loopback\":true";
  return json + "}";
}

struct Interaction {
  std::string id;
  std::vector<std::string> legs;
  bool operator==(const Interaction& o) const { return id == o.id && legs == o.legs; }
};

std::ostream& operator<<(std::ostream& os, const Interaction& i) {
  os << i.id << " [";
  for (const auto& leg : i.legs) os << leg << " ";
  return os << "]";
}

using Interactions = std::vector<Interaction>;

class CdrLegsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dsn_ = new std::string(create_migrated_database("cdr_legs"));
    pqxx::connection conn(*dsn_);
    std::string error;
    ASSERT_TRUE(apply_migrations(conn, nullptr, &error)) << error;
    const auto may = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(kBase - kGregorianUnixOffset));
    ASSERT_TRUE(ensure_partitions(conn, may, 1, &error)) << error;
    pqxx::work tx(conn);
    for (const LegRow& r : kLegRows) {
      tx.exec_params(
          "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, started_at, leg, interaction_id, is_loopback, "
          "source, record) VALUES ($1, to_timestamp($2), $3, $4, $1, to_timestamp($5), $6, NULLIF($7, ''), $8, "
          "'json_cdr', $9)",
          r.id, r.gregorian_ts - kGregorianUnixOffset, r.gregorian_ts, r.account,
          kLegStart + r.start_offset - kGregorianUnixOffset, r.leg, r.interaction, r.loopback, leg_record_json(r));
    }
    tx.commit();
  }
  static void TearDownTestSuite() {
    delete dsn_;
    dsn_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dsn_, nullptr);
    store_ = std::make_unique<CdrStore>(*dsn_, 10000);
  }

  static Interactions interactions_of(const CdrPage& page, const std::string& account) {
    Interactions out;
    for (const std::string& record : page.records) {
      rapidjson::Document doc;
      doc.Parse(record);
      EXPECT_TRUE(!doc.HasParseError() && doc.IsObject()) << record;
      if (doc.HasParseError() || !doc.IsObject()) continue;
      EXPECT_EQ(std::string(doc["account_id"].GetString()), account) << record;
      EXPECT_FALSE(doc.HasMember("is_loopback")) << record;
      Interaction i{doc["id"].GetString(), {}};
      EXPECT_TRUE(doc.HasMember("legs") && doc["legs"].IsArray()) << record;
      if (doc.HasMember("legs") && doc["legs"].IsArray()) {
        for (const auto& leg : doc["legs"].GetArray()) i.legs.emplace_back(leg.GetString());
      }
      out.push_back(std::move(i));
    }
    return out;
  }

  Interactions all_interaction_pages(CdrListQuery q) {
    Interactions all;
    for (int pages = 0; pages < 100; ++pages) {
      const CdrPage page = store_->interactions(q);
      const Interactions got = interactions_of(page, q.account_id);
      all.insert(all.end(), got.begin(), got.end());
      if (!page.next) return all;
      EXPECT_EQ(got.size(), q.page_size);
      CdrCursor cursor;
      EXPECT_TRUE(decode_cursor(encode_cursor(*page.next), &cursor));
      q.after = cursor;
    }
    ADD_FAILURE() << "paging did not end";
    return all;
  }

  static std::string* dsn_;
  std::unique_ptr<CdrStore> store_;
};

std::string* CdrLegsTest::dsn_ = nullptr;

// In the window [kBase, kBase + 1000], newest first.
const Interactions kInteractionsNewestFirst = {
    {"203005-c9-a", {"203005-c9-b", "203005-c9-a"}},
    {"203005-c7-a", {"203005-c7-a", "203005-c7-b"}},
    {"203005-c6-a", {"203005-c6-a", "203005-c6-b"}},
    {"203005-c5-a", {"203005-c5-a", "203005-c5-b"}},
    {"203005-c4-a", {"203005-c4-a", "203005-c4-b"}},
    {"203005-solo", {"203005-solo"}},
    {"203005-c2-b", {"203005-c2-b"}},
    {"203005-c1-a", {"203005-c1-a", "203005-c1-b"}},
};

TEST_F(CdrLegsTest, LegsAreTheAccountsLegsByStartThenId) {
  std::vector<std::string> ids;
  std::vector<bool> loopback;
  for (const std::string& record : store_->legs(kAcctA, "call-1")) {
    rapidjson::Document doc;
    doc.Parse(record);
    ASSERT_TRUE(doc.IsObject()) << record;
    EXPECT_EQ(std::string(doc["account_id"].GetString()), kAcctA);
    EXPECT_EQ(std::string(doc["interaction_id"].GetString()), "call-1");
    ids.emplace_back(doc["id"].GetString());
    loopback.push_back(doc.HasMember("is_loopback") && doc["is_loopback"].GetBool());
  }
  EXPECT_EQ(ids, (Ids{"203005-c1-a", "203005-c1-la", "203005-c1-lb", "203005-c1-b"}));
  EXPECT_EQ(loopback, (std::vector<bool>{false, true, true, false}));

  // Start first, whatever the leg or the end.
  std::vector<std::string> call9;
  for (const std::string& record : store_->legs(kAcctA, "call-9")) call9.push_back(parse_id(record));
  EXPECT_EQ(call9, (Ids{"203005-c9-b", "203005-c9-a"}));

  const auto acct_b = store_->legs(kAcctB, "call-1");
  ASSERT_EQ(acct_b.size(), 1u);
  EXPECT_EQ(parse_id(acct_b[0]), "203005-x1-a");
  EXPECT_EQ(store_->legs(kAcctB, "call-2").size(), 0u);
  EXPECT_EQ(store_->legs(kAcctA, "call-none").size(), 0u);
  EXPECT_EQ(store_->legs(kAcctA, "call-\xff").size(), 0u);
  // Loopback-only calls are listed in full.
  EXPECT_EQ(store_->legs(kAcctA, "call-3").size(), 2u);
}

TEST_F(CdrLegsTest, InteractionsAreOneRowPerCallWithItsLegs) {
  CdrListQuery q;
  q.account_id = kAcctA;
  q.from_gregorian = kBase;
  q.to_gregorian = kBase + 1000;
  q.page_size = 1000;
  const CdrPage page = store_->interactions(q);
  EXPECT_FALSE(page.next.has_value());
  EXPECT_EQ(interactions_of(page, kAcctA), kInteractionsNewestFirst);

  q.ascending = true;
  const Interactions oldest_first(kInteractionsNewestFirst.rbegin(), kInteractionsNewestFirst.rend());
  EXPECT_EQ(interactions_of(store_->interactions(q), kAcctA), oldest_first);

  // call-8 is in the window of its A-leg, not in that of its B-leg.
  q.from_gregorian = kBase + 1500;
  q.to_gregorian = kBase + 2500;
  EXPECT_EQ(interactions_of(store_->interactions(q), kAcctA),
            (Interactions{{"203005-c8-a", {"203005-c8-a", "203005-c8-b"}}}));

  // acct-b's leg of call-1 is acct-b's interaction only.
  q.account_id = kAcctB;
  q.from_gregorian = kBase;
  q.to_gregorian = kBase + 1000;
  EXPECT_EQ(interactions_of(store_->interactions(q), kAcctB), (Interactions{{"203005-x1-a", {"203005-x1-a"}}}));
  q.account_id = "acct-\xff";
  EXPECT_TRUE(store_->interactions(q).records.empty());
}

TEST_F(CdrLegsTest, InteractionsPageByTheKeysetOfTheirRecord) {
  CdrListQuery q;
  q.account_id = kAcctA;
  q.from_gregorian = kBase;
  q.to_gregorian = kBase + 1000;
  const Interactions oldest_first(kInteractionsNewestFirst.rbegin(), kInteractionsNewestFirst.rend());
  for (size_t page_size : {1, 2, 3, 5}) {
    SCOPED_TRACE("page_size " + std::to_string(page_size));
    q.page_size = page_size;
    q.ascending = false;
    EXPECT_EQ(all_interaction_pages(q), kInteractionsNewestFirst);
    q.ascending = true;
    EXPECT_EQ(all_interaction_pages(q), oldest_first);
  }
  q.page_size = 2;
  q.ascending = false;
  const CdrPage first = store_->interactions(q);
  ASSERT_TRUE(first.next.has_value());
  EXPECT_EQ(first.next->gregorian_ts, kBase + 600);
  EXPECT_EQ(first.next->id, "203005-c7-a");
}

std::string base64url(const std::string& plain) {
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

TEST(CdrCursorTest, RoundTrips) {
  const std::vector<CdrCursor> cursors = {
      {63682885615LL, "201801-3da8bf84-c133-4959-9e24-e72875cb33a1"},
      {0, "x"},
      {315569519999LL, "9999-12-31"},
      {kBase, "id with \"quotes\", a:colon/slash+plus=?&%, \xc3\xa9 and \\"},
  };
  for (const CdrCursor& in : cursors) {
    const std::string key = encode_cursor(in);
    EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << key;
    CdrCursor out;
    ASSERT_TRUE(decode_cursor(key, &out)) << key;
    EXPECT_EQ(out.gregorian_ts, in.gregorian_ts);
    EXPECT_EQ(out.id, in.id);
  }
}

TEST(CdrCursorTest, RefusesKeysItDidNotMake) {
  const std::string good = encode_cursor({kBase, "203005-a1"});
  const std::vector<std::string> forged = {
      "",
      "forged!",
      good + "=",                       // padding is never produced
      good.substr(0, good.size() - 3),  // truncated
      good + "A",                       // one character more
      std::string(5000, 'A'),
      base64url(std::to_string(kBase) + ":203005-a1"),  // plain "ts:id"
      base64url("[" + std::to_string(kBase) + ",\"203005-a1\"] trailing"),
      base64url("{\"ts\":1,\"id\":\"x\"}"),
      base64url("[1,\"x\",3]"),
      base64url("[1]"),
      base64url("[\"1\",\"x\"]"),
      base64url("[1,2]"),
      base64url("[1.5,\"x\"]"),
      base64url("[-1,\"x\"]"),
      base64url("[315569520000,\"x\"]"),  // after 9999-12-31: beyond what to_timestamp takes
      base64url("[1e30,\"x\"]"),
      base64url("[1,\"\"]"),
      base64url("[1,\"a\\u0000b\"]"),
      base64url("[1,\"\xff\xfe\"]"),  // not UTF-8: PostgreSQL would refuse it
  };
  for (const std::string& key : forged) {
    CdrCursor out{7, "untouched"};
    EXPECT_FALSE(decode_cursor(key, &out)) << key;
  }
  CdrCursor out;
  EXPECT_TRUE(decode_cursor(good, &out));
}

}  // namespace
}  // namespace cdrd::test
