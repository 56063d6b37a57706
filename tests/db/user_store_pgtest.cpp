// The api_users table on a real database: create, look up (by login and by
// account), revoke, list, the refusals naming the login, and that what is
// stored is the Argon2id hash of md5("login:password"), never the password.
#include "daemon/db/user_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/auth/password_hash.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

// A well-formed hash string for the rows whose secret no test checks (an
// Argon2id run per row would only slow the tests down).
const std::string kFakeHash = "$argon2id$v=19$m=32768,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA";

class UserStorePg : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("api_users");
    conn_ = std::make_unique<pqxx::connection>(dsn_);
  }
  long long count(const std::string& sql) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec1(sql)[0].as<long long>();
  }
  // The message of the exception `f` throws as E, or "" when it throws none.
  template <typename E, typename F>
  static std::string message_of(F f) {
    try {
      f();
    } catch (const E& e) {
      return e.what();
    }
    return "";
  }
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(UserStorePg, CreatedUserIsFoundAndItsSecretVerifies) {
  // printf %s alice:secret | md5sum
  const std::string credentials = "6f622058968bb90757e6c6ed79e5df81";
  const StoredUser created = create_api_user(*conn_, "alice", hash_user_secret(kazoo_credentials("alice", "secret")),
                                             {"acct-a", "acct-b"}, "8a2b4c6d");
  EXPECT_EQ(created.login, "alice");
  EXPECT_EQ(created.accounts, (std::vector<std::string>{"acct-a", "acct-b"}));
  EXPECT_EQ(created.owner_id, "8a2b4c6d");
  EXPECT_EQ(created.created_at.size(), 20u) << created.created_at;  // 2026-01-02T03:04:05Z
  EXPECT_FALSE(created.revoked());

  const auto found = find_api_user(*conn_, "alice");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->login, "alice");
  EXPECT_EQ(found->accounts, (std::vector<std::string>{"acct-a", "acct-b"}));
  EXPECT_EQ(found->owner_id, "8a2b4c6d");
  EXPECT_EQ(found->created_at, created.created_at);
  EXPECT_EQ(found->secret_hash, created.secret_hash);
  EXPECT_EQ(found->secret_hash.rfind("$argon2id$", 0), 0u) << found->secret_hash;
  EXPECT_TRUE(verify_user_secret(found->secret_hash, credentials));
  EXPECT_FALSE(verify_user_secret(found->secret_hash, "3159c8cb62c7a0670e1330d9ea37f126"));
  EXPECT_TRUE(found->allows("acct-b"));
  EXPECT_FALSE(found->allows("acct-c"));

  // Neither the password nor its md5 is in any column.
  pqxx::nontransaction tx(*conn_);
  const std::string whole_row = tx.exec1("SELECT u::text FROM api_users u WHERE login = 'alice'")[0].as<std::string>();
  EXPECT_EQ(whole_row.find("secret"), std::string::npos) << whole_row;
  EXPECT_EQ(whole_row.find(credentials), std::string::npos) << whole_row;
}

TEST_F(UserStorePg, NoOwnerIsStoredAsNull) {
  create_api_user(*conn_, "bob", kFakeHash, {"*"}, "");
  const auto found = find_api_user(*conn_, "bob");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->owner_id, "");
  EXPECT_TRUE(found->allows("anything"));
  EXPECT_EQ(count("SELECT count(*) FROM api_users WHERE owner_id IS NULL"), 1);
}

TEST_F(UserStorePg, AnExistingLoginIsRefusedNamingIt) {
  create_api_user(*conn_, "alice", kFakeHash, {"acct-a"}, "");
  EXPECT_EQ(message_of<ApiUserError>([&] { create_api_user(*conn_, "alice", kFakeHash, {"acct-b"}, ""); }),
            "the login \"alice\" exists already");
  // Also once revoked: a token minted for the old alice must not pass for a new one.
  revoke_api_user(*conn_, "alice");
  EXPECT_EQ(message_of<ApiUserError>([&] { create_api_user(*conn_, "alice", kFakeHash, {"acct-b"}, ""); }),
            "the login \"alice\" exists already (revoked; a login is not used again)");
  EXPECT_EQ(find_api_user(*conn_, "alice")->accounts, std::vector<std::string>{"acct-a"});
  EXPECT_EQ(count("SELECT count(*) FROM api_users"), 1);
}

TEST_F(UserStorePg, BadArgumentsAreRefusedNamingTheProblem) {
  const auto invalid = [&](const std::string& login, const std::string& hash,
                           const std::vector<std::string>& accounts) {
    return message_of<std::invalid_argument>([&] { create_api_user(*conn_, login, hash, accounts, ""); });
  };
  EXPECT_EQ(invalid("", kFakeHash, {"acct-a"}), "the login must not be empty");
  EXPECT_EQ(invalid("al:ice", kFakeHash, {"acct-a"}),
            "the login \"al:ice\" must not contain ':' (Kazoo's credentials are md5 of \"login:password\")");
  EXPECT_EQ(invalid("alice", kFakeHash, {}), "user \"alice\": at least one account is needed");
  EXPECT_EQ(invalid("alice", kFakeHash, {"acct-a", ""}), "user \"alice\": an account id must not be empty");
  EXPECT_EQ(invalid("alice", "secret", {"acct-a"}), "user \"alice\": secret_hash is not an Argon2id hash string");
  EXPECT_EQ(count("SELECT count(*) FROM api_users"), 0);
}

TEST_F(UserStorePg, TheTableItselfRefusesALoginWithAColon) {
  pqxx::work tx(*conn_);
  EXPECT_THROW(tx.exec("INSERT INTO api_users (login, secret_hash, accounts) VALUES ('a:b', 'h', '{acct}')"),
               pqxx::check_violation);
}

TEST_F(UserStorePg, RevokeSetsRevokedAtAndNamesWhatItCannotRevoke) {
  create_api_user(*conn_, "alice", kFakeHash, {"acct-a"}, "");
  revoke_api_user(*conn_, "alice");
  const auto found = find_api_user(*conn_, "alice");
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->revoked());
  EXPECT_EQ(found->revoked_at.size(), 20u) << found->revoked_at;
  EXPECT_EQ(found->revoked_at.back(), 'Z');
  EXPECT_EQ(message_of<ApiUserError>([&] { revoke_api_user(*conn_, "alice"); }),
            "the user \"alice\" is already revoked");
  EXPECT_EQ(message_of<ApiUserError>([&] { revoke_api_user(*conn_, "nobody"); }), "no user with the login \"nobody\"");
  EXPECT_EQ(message_of<ApiUserError>([&] { revoke_api_user(*conn_, "x'; DROP TABLE api_users; --"); }),
            "no user with the login \"x'; DROP TABLE api_users; --\"");
  EXPECT_EQ(count("SELECT count(*) FROM api_users"), 1);
}

TEST_F(UserStorePg, UnknownLoginsAreNotFound) {
  create_api_user(*conn_, "alice", kFakeHash, {"acct-a"}, "");
  EXPECT_FALSE(find_api_user(*conn_, "bob").has_value());
  EXPECT_FALSE(find_api_user(*conn_, "Alice").has_value());  // logins are exact
  EXPECT_FALSE(find_api_user(*conn_, "alice' OR '1'='1").has_value());
}

TEST_F(UserStorePg, ActiveUsersOfAnAccountForKazooUserAuth) {
  create_api_user(*conn_, "carol", kFakeHash, {"acct-a", "acct-b"}, "");
  create_api_user(*conn_, "admin", kFakeHash, {"*"}, "");
  create_api_user(*conn_, "bob", kFakeHash, {"acct-b"}, "");
  create_api_user(*conn_, "alice", kFakeHash, {"acct-a"}, "");
  create_api_user(*conn_, "gone", kFakeHash, {"acct-a"}, "");
  revoke_api_user(*conn_, "gone");
  const auto logins = [&](const std::string& account, size_t limit) {
    std::vector<std::string> out;
    for (const StoredUser& u : active_api_users_for_account(*conn_, account, limit)) out.push_back(u.login);
    return out;
  };
  EXPECT_EQ(logins("acct-a", 10), (std::vector<std::string>{"admin", "alice", "carol"}));
  EXPECT_EQ(logins("acct-b", 10), (std::vector<std::string>{"admin", "bob", "carol"}));
  EXPECT_EQ(logins("acct-z", 10), std::vector<std::string>{"admin"});
  EXPECT_EQ(logins("acct-a", 2), (std::vector<std::string>{"admin", "alice"}));
  EXPECT_EQ(logins("*", 10), std::vector<std::string>{"admin"});  // "*" is no wildcard in a query
  const auto carol = active_api_users_for_account(*conn_, "acct-b", 10).back();
  EXPECT_EQ(carol.secret_hash, kFakeHash);
}

TEST_F(UserStorePg, ListShowsEveryUserOldestFirst) {
  create_api_user(*conn_, "zed", kFakeHash, {"acct-a"}, "owner-1");
  create_api_user(*conn_, "amy", kFakeHash, {"acct-b", "acct-c"}, "");
  revoke_api_user(*conn_, "zed");
  const std::vector<StoredUser> users = list_api_users(*conn_);
  ASSERT_EQ(users.size(), 2u);
  // Two transactions: created_at (microseconds) orders them, not the login.
  EXPECT_EQ(users[0].login, "zed");
  EXPECT_EQ(users[0].owner_id, "owner-1");
  EXPECT_TRUE(users[0].revoked());
  EXPECT_EQ(users[1].login, "amy");
  EXPECT_EQ(users[1].accounts, (std::vector<std::string>{"acct-b", "acct-c"}));
  EXPECT_FALSE(users[1].revoked());
}

TEST_F(UserStorePg, AccountsKeepCommasQuotesAndBraces) {
  const std::vector<std::string> accounts = {"a,b", "quote\"d", "{brace}"};
  create_api_user(*conn_, "odd", kFakeHash, accounts, "");
  EXPECT_EQ(find_api_user(*conn_, "odd")->accounts, accounts);
  EXPECT_EQ(active_api_users_for_account(*conn_, "quote\"d", 10).size(), 1u);
}

TEST_F(UserStorePg, LookupsSurviveANewConnection) {
  // The statements are prepared per connection: a second one prepares its own.
  create_api_user(*conn_, "alice", kFakeHash, {"acct-a"}, "");
  ASSERT_TRUE(find_api_user(*conn_, "alice").has_value());
  ASSERT_TRUE(find_api_user(*conn_, "alice").has_value());
  pqxx::connection other(dsn_);
  EXPECT_TRUE(find_api_user(other, "alice").has_value());
  EXPECT_EQ(active_api_users_for_account(other, "acct-a", 10).size(), 1u);
}

}  // namespace
}  // namespace cdrd::test
