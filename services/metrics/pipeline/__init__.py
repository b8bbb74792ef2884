"""GET /v1/pipeline: win rate, deal size, cycle, velocity, coverage vs quota, slippage, time in stage."""
