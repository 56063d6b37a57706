# PostgreSQL tests of the embedded server, the migrations and the read
# queries (label "pg"; each test binary starts its own server through
# tests/support). Included by tests/db/CMakeLists.txt.
find_package(OpenSSL REQUIRED)
foreach(test_name embedded_postgres_pgtest migrations_pgtest cdr_store_pgtest cdr_filter_pgtest)
  add_executable(${test_name} ${CMAKE_CURRENT_LIST_DIR}/${test_name}.cpp)
  # OpenSSL: the cursor test builds forged keys with base64.
  target_link_libraries(${test_name} PRIVATE cdrd_test_support cdrd_api cdrd_db OpenSSL::Crypto GTest::gtest_main)
  gtest_discover_tests(${test_name} PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} TIMEOUT 300 DISCOVERY_MODE PRE_TEST)
endforeach()
