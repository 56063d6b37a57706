# The api_users table's queries on a real PostgreSQL (label "pg"). Included
# by tests/db/CMakeLists.txt.
add_executable(user_store_pgtest ${CMAKE_CURRENT_LIST_DIR}/user_store_pgtest.cpp)
target_link_libraries(user_store_pgtest PRIVATE cdrd_test_support cdrd_users cdrd_db GTest::gtest_main)
gtest_discover_tests(user_store_pgtest PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} TIMEOUT 300 DISCOVERY_MODE PRE_TEST)
