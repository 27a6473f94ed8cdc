-- 3. POST /todos/: one new todo per request.
wrk.method = "POST"
wrk.body = '{"title": "A todo from the benchmark"}'
wrk.headers["Content-Type"] = "application/json"
