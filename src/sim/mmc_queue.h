#pragma once

namespace hiro::sim {

// Closed forms of the M/M/c queue (Poisson arrivals at `lambda`, c servers of
// exponential service at rate `mu`, one FIFO queue), used to check what the
// cluster simulation says against the textbook. Rates and times share one
// unit (e.g. per ms and ms).

// Erlang C: the probability that an arrival has to wait. 1 when lambda >= c mu
// (the queue grows without bound).
double erlang_c(int c, double lambda, double mu);

// P(W > t): the probability that an arrival waits longer than t,
// P_w * exp(-(c mu - lambda) t); 1 when lambda >= c mu, 0 for t = infinity below it.
double wait_exceeds(int c, double lambda, double mu, double t);

// The share of arrivals that must go elsewhere so that those kept wait at most
// t (t < 0: all of them). See mmc_queue.cpp for the fixed point it solves.
double overflow_share(int c, double lambda, double mu, double t);

}  // namespace hiro::sim
