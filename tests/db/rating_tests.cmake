# The rating tables' queries on a real PostgreSQL (label "pg"). Included by
# tests/db/CMakeLists.txt.
add_executable(rate_store_pgtest ${CMAKE_CURRENT_LIST_DIR}/rate_store_pgtest.cpp)
target_link_libraries(rate_store_pgtest PRIVATE cdrd_test_support cdrd_rate_store cdrd_db GTest::gtest_main)
gtest_discover_tests(rate_store_pgtest PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} TIMEOUT 300 DISCOVERY_MODE PRE_TEST)
