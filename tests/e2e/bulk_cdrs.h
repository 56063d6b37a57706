// CDR rows written straight into the daemon's `cdrs` table with one SQL
// statement, for the read tests that need thousands of them (through the
// ingest path that would take minutes). Header-only: the e2e test binary
// globs its sources.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

namespace cdrd::test {

// `count` legs of `account`, `per_second` of them per second from
// `first_gregorian` on (ids "<prefix>-0000001" ...; ties in the timestamp
// broken by id). Each record is about 1 KB, like a real one: two SDPs with
// CRLF line ends, a caller name with a comma and quotes, custom_channel_vars.
// Timestamps in the past go to the default partition, which is fine.
inline void insert_bulk_cdrs(const std::string& dsn, const std::string& account, const std::string& prefix,
                             int64_t first_gregorian, int count, int per_second) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, billing_seconds, duration_seconds, "
      "caller_id_number, callee_id_number, billing_status, interaction_id, leg, source, record) "
      "SELECT id, to_timestamp(ts - 62167219200), ts, $2, id, g % 120, g % 120 + 3, '1' || lpad((g % 1000)::text, 3, "
      "'0'), '4420' || lpad(g::text, 8, '0'), 'answered', id, 'A', 'json_cdr', jsonb_build_object("
      "'id', id, 'call_id', id, 'account_id', $2::text, 'timestamp', ts, "
      "'channel_created_time', (ts - 62167219200 - 120) * 1000000, 'duration_seconds', g % 120 + 3, "
      "'billing_seconds', g % 120, 'ringing_seconds', 3, 'call_direction', 'inbound', "
      "'caller_id_name', 'Caller, \"' || g || '\" Ltd', 'caller_id_number', '1' || lpad((g % 1000)::text, 3, '0'), "
      "'callee_id_number', '4420' || lpad(g::text, 8, '0'), 'hangup_cause', 'NORMAL_CLEARING', "
      "'hangup_code', 'sip:200', 'disposition', 'ANSWER', 'billing_status', 'answered', 'leg', 'A', "
      "'source', 'json_cdr', 'interaction_id', id, 'media_server', 'fs1', 'media_server_ip', '10.0.0.1', "
      "'from_uri', 'sip:1001@198.51.100.4', 'to_uri', 'sip:4420' || g || '@pbx.example.com', "
      "'user_agent', 'FreeSWITCH-mod_sofia/1.10.9-release~64bit', "
      "'local_sdp', 'v=0' || chr(13) || chr(10) || 'o=FreeSWITCH 1673273408 1673273409 IN IP4 10.0.0.1' || chr(13) "
      "|| chr(10) || 's=FreeSWITCH' || chr(13) || chr(10) || 'c=IN IP4 10.0.0.1' || chr(13) || chr(10) || "
      "'t=0 0' || chr(13) || chr(10) || 'm=audio 27558 RTP/AVP 8 101' || chr(13) || chr(10) || "
      "'a=rtpmap:8 PCMA/8000' || chr(13) || chr(10), "
      "'remote_sdp', 'v=0' || chr(13) || chr(10) || 'o=- 3912 3913 IN IP4 192.0.2.7' || chr(13) || chr(10) || "
      "'c=IN IP4 192.0.2.7' || chr(13) || chr(10) || 'm=audio 4000 RTP/AVP 8 0 101' || chr(13) || chr(10), "
      "'started_at', to_char(to_timestamp(ts - 62167219200 - 120) AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
      "'custom_channel_vars', jsonb_build_object('account_id', $2::text, 'owner_id', 'o-' || (g % 10), "
      "'realm', 'pbx.example.com', 'username', 'user' || (g % 1000)) ) "
      "FROM (SELECT g, $3 || '-' || lpad(g::text, 7, '0') AS id, $4::bigint + (g - 1) / $5 AS ts "
      "FROM generate_series(1, $1) g) s",
      count, account, prefix, first_gregorian, per_second);
  tx.commit();
}

}  // namespace cdrd::test
