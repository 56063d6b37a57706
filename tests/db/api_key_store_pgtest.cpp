// The api_keys table on a real database: create, look up, revoke, list, and
// that the key itself is stored nowhere.
#include "daemon/db/api_key_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/auth/api_key_secret.h"
#include "daemon/db/migrations.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

class ApiKeyStorePg : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("api_keys");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    std::vector<std::string> applied;
    std::string error;
    ASSERT_TRUE(apply_migrations(*conn_, &applied, &error)) << error;
  }
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(ApiKeyStorePg, CreatedKeyIsFoundByItsHashUntilRevoked) {
  const GeneratedApiKey key = create_api_key(*conn_, {"acct-a", "acct-b"}, "billing");
  std::string parsed_id;
  ASSERT_TRUE(parse_api_key(key.key, &parsed_id));
  EXPECT_EQ(parsed_id, key.key_id);

  const auto found = find_api_key(*conn_, key.key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->key_id, key.key_id);
  EXPECT_EQ(found->accounts, (std::vector<std::string>{"acct-a", "acct-b"}));
  EXPECT_EQ(found->name, "billing");
  EXPECT_EQ(found->created_at.size(), 20u) << found->created_at;  // 2026-01-02T03:04:05Z
  EXPECT_EQ(found->created_at.back(), 'Z');
  EXPECT_FALSE(found->revoked());
  EXPECT_TRUE(found->allows("acct-b"));
  EXPECT_FALSE(found->allows("acct-c"));

  const auto by_id = find_api_key_by_id(*conn_, key.key_id);
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->accounts, found->accounts);

  EXPECT_EQ(revoke_api_key(*conn_, key.key_id), RevokeResult::kRevoked);
  const auto revoked = find_api_key(*conn_, key.key);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_TRUE(revoked->revoked());
  EXPECT_EQ(revoked->revoked_at.back(), 'Z');
  EXPECT_TRUE(find_api_key_by_id(*conn_, key.key_id)->revoked());
  EXPECT_EQ(revoke_api_key(*conn_, key.key_id), RevokeResult::kAlreadyRevoked);
}

TEST_F(ApiKeyStorePg, UnknownKeysAndIdsAreNotFound) {
  const GeneratedApiKey stored = create_api_key(*conn_, {"acct-a"}, "");
  const GeneratedApiKey never_stored = generate_api_key();
  EXPECT_FALSE(find_api_key(*conn_, never_stored.key).has_value());
  EXPECT_FALSE(find_api_key_by_id(*conn_, never_stored.key_id).has_value());
  // The same id with another secret is another key.
  const std::string forged = "cdrd_" + stored.key_id + never_stored.key.substr(never_stored.key.rfind('_'));
  EXPECT_FALSE(find_api_key(*conn_, forged).has_value());
  EXPECT_FALSE(find_api_key_by_id(*conn_, "not-an-id' OR '1'='1").has_value());
  EXPECT_EQ(revoke_api_key(*conn_, never_stored.key_id), RevokeResult::kUnknown);
  EXPECT_EQ(revoke_api_key(*conn_, "x'; DROP TABLE api_keys; --"), RevokeResult::kUnknown);
  EXPECT_TRUE(find_api_key(*conn_, stored.key).has_value());
}

TEST_F(ApiKeyStorePg, NoColumnHoldsTheKey) {
  const GeneratedApiKey key = create_api_key(*conn_, {"acct-a"}, "ops");
  const std::string secret = key.key.substr(key.key.rfind('_') + 1);
  pqxx::nontransaction tx(*conn_);
  // The whole row as text (bytea shown in hex), and the hash column itself.
  const pqxx::row row = tx.exec_params1(
      "SELECT k::text, encode(key_hash, 'hex'), octet_length(key_hash) FROM api_keys k WHERE key_id = $1", key.key_id);
  const std::string whole_row = row[0].as<std::string>();
  EXPECT_EQ(whole_row.find(key.key), std::string::npos) << whole_row;
  EXPECT_EQ(whole_row.find(secret), std::string::npos) << whole_row;
  EXPECT_EQ(whole_row.find(to_hex(secret)), std::string::npos) << whole_row;
  EXPECT_NE(row[1].as<std::string>(), to_hex(key.key));
  EXPECT_EQ(row[1].as<std::string>(), to_hex(api_key_hash(key.key)));
  EXPECT_EQ(row[2].as<int>(), 32);
  // Every text column of the table, checked by name, in case columns are added.
  for (const auto& col : tx.exec(
           "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_keys' AND data_type = 'text'")) {
    const std::string name = col[0].as<std::string>();
    const auto hit =
        tx.exec_params("SELECT 1 FROM api_keys WHERE " + tx.quote_name(name) + " LIKE '%' || $1 || '%'", secret);
    EXPECT_TRUE(hit.empty()) << "column " << name << " holds the secret";
  }
}

TEST_F(ApiKeyStorePg, AccountsKeepCommasQuotesAndBraces) {
  const std::vector<std::string> accounts = {"a,b", "quote\"d", "{brace}", "*"};
  const GeneratedApiKey key = create_api_key(*conn_, accounts, "odd");
  const auto found = find_api_key(*conn_, key.key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->accounts, accounts);
  EXPECT_TRUE(found->allows("anything"));  // "*"
}

TEST_F(ApiKeyStorePg, KeyWithoutAccountsIsRefused) {
  EXPECT_THROW(create_api_key(*conn_, {}, ""), std::invalid_argument);
  EXPECT_THROW(create_api_key(*conn_, {"acct-a", ""}, ""), std::invalid_argument);
  pqxx::nontransaction tx(*conn_);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM api_keys")[0].as<int>(), 0);
}

TEST_F(ApiKeyStorePg, ListShowsEveryKeyOldestFirstWithoutTheKey) {
  const GeneratedApiKey first = create_api_key(*conn_, {"acct-a"}, "first");
  const GeneratedApiKey second = create_api_key(*conn_, {"acct-b"}, "");
  ASSERT_EQ(revoke_api_key(*conn_, first.key_id), RevokeResult::kRevoked);
  const std::vector<StoredApiKey> keys = list_api_keys(*conn_);
  ASSERT_EQ(keys.size(), 2u);
  // Two transactions: created_at (microseconds) orders them.
  const StoredApiKey& a = keys[0];
  const StoredApiKey& b = keys[1];
  EXPECT_EQ(a.key_id, first.key_id);
  EXPECT_EQ(a.name, "first");
  EXPECT_TRUE(a.revoked());
  EXPECT_EQ(b.key_id, second.key_id);
  EXPECT_EQ(b.accounts, std::vector<std::string>{"acct-b"});
  EXPECT_EQ(b.name, "");
  EXPECT_FALSE(b.revoked());
}

TEST_F(ApiKeyStorePg, LookupsSurviveANewConnection) {
  // The statements are prepared per connection: a second one prepares its own.
  const GeneratedApiKey key = create_api_key(*conn_, {"acct-a"}, "");
  ASSERT_TRUE(find_api_key(*conn_, key.key).has_value());
  ASSERT_TRUE(find_api_key(*conn_, key.key).has_value());  // the same statement again
  pqxx::connection other(dsn_);
  EXPECT_TRUE(find_api_key(other, key.key).has_value());
  EXPECT_TRUE(find_api_key_by_id(other, key.key_id).has_value());
}

}  // namespace
}  // namespace cdrd::test
