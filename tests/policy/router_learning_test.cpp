// The learning code on data where the answer is known.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "policy/confidence_calibration.h"
#include "policy/feature_extractor.h"
#include "policy/quality_model.h"
#include "policy/registry.h"
#include "policy/router_model.h"

namespace hiro::policy {
namespace {

using ::testing::HasSubstr;

FeatureOptions features_of(std::vector<std::string> kinds, std::string embedding_model = "") {
    FeatureOptions options;
    options.kinds = std::move(kinds);
    options.embedding_model = std::move(embedding_model);
    return options;
}

SparseVector dense(std::initializer_list<float> values) {
    SparseVector v;
    std::uint32_t i = 0;
    for (float x : values) {
        v.index.push_back(i++);
        v.value.push_back(x);
    }
    return v;
}

// Two models: A is right exactly when x0 > x1, B exactly when x0 < x1.
TrainingData separable(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    TrainingData d;
    d.dimension = 2;
    while (d.x.size() < n) {
        const float a = u(rng), b = u(rng);
        if (std::abs(a - b) < 0.1f) continue;  // a margin: separable, not just barely
        d.x.push_back(dense({a, b}));
        d.y.push_back({a > b ? 1.0f : 0.0f, a < b ? 1.0f : 0.0f});
    }
    return d;
}

double accuracy_on(const QualityModel& model, const TrainingData& d) {
    double right = 0, total = 0;
    for (std::size_t i = 0; i < d.x.size(); ++i) {
        const auto p = model.predict(d.x[i]);
        for (std::size_t m = 0; m < p.size(); ++m) {
            if (std::isnan(d.y[i][m])) continue;
            right += (p[m] > 0.5) == (d.y[i][m] > 0.5) ? 1 : 0;
            total += 1;
        }
    }
    return right / total;
}

TEST(LogisticRegression, SeparatesASeparableToySetOnUnseenPoints) {
    FitOptions options;
    options.epochs = 30;
    const auto model = fit_quality_model("logistic", separable(400, 1), options);
    EXPECT_GE(accuracy_on(*model, separable(400, 2)), 0.97);
    EXPECT_GT(model->predict(dense({0.9f, -0.9f}))[0], 0.9);
    EXPECT_LT(model->predict(dense({0.9f, -0.9f}))[1], 0.1);
}

TEST(Knn, PredictsFromTheNearestTrainingQueries) {
    FitOptions options;
    options.neighbours = 5;
    TrainingData d;
    d.dimension = 4;
    for (int i = 0; i < 50; ++i) {
        d.x.push_back(dense({1, 0.1f * static_cast<float>(i % 3), 0, 0}));
        d.y.push_back({1, 0});
        d.x.push_back(dense({0, 0, 1, 0.1f * static_cast<float>(i % 3)}));
        d.y.push_back({0, 1});
    }
    const auto model = fit_quality_model("knn", d, options);
    EXPECT_GT(model->predict(dense({1, 0.05f, 0, 0}))[0], 0.8);
    EXPECT_LT(model->predict(dense({0, 0, 1, 0.05f}))[0], 0.2);
}

// A planted rank-2 correctness matrix of 300 queries x 12 models; each query
// is a one-hot feature, so the model must complete the matrix from the
// entries it sees. 30% of the entries are held out.
TEST(MatrixFactorization, CompletesAPlantedLowRankMatrix) {
    const std::size_t queries = 300, models = 12, rank = 2;
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal;
    std::vector<double> u(queries * rank), v(models * rank);
    for (auto& x : u) x = normal(rng);
    for (auto& x : v) x = normal(rng);
    std::bernoulli_distribution observed(0.7);
    TrainingData train, held;
    train.dimension = held.dimension = queries;
    for (std::size_t q = 0; q < queries; ++q) {
        SparseVector x;
        x.index = {static_cast<std::uint32_t>(q)};
        x.value = {1.0f};
        std::vector<float> seen(models), hidden(models);
        for (std::size_t m = 0; m < models; ++m) {
            const double score = u[q * rank] * v[m * rank] + u[q * rank + 1] * v[m * rank + 1];
            const float label = score > 0 ? 1.0f : 0.0f;
            const bool in_train = observed(rng);
            seen[m] = in_train ? label : std::nanf("");
            hidden[m] = in_train ? std::nanf("") : label;
        }
        train.x.push_back(x);
        train.y.push_back(seen);
        held.x.push_back(x);
        held.y.push_back(hidden);
    }
    FitOptions options;
    options.rank = 4;
    options.epochs = 60;
    options.l2 = 1e-5;
    options.seed = 1;
    const auto model = fit_quality_model("mf", train, options);
    EXPECT_GE(accuracy_on(*model, held), 0.85);
    // Logistic regression has one weight per (query, model) and nothing to
    // share across models: it cannot fill in the unseen entries.
    const auto per_model = fit_quality_model("logistic", train, options);
    EXPECT_LT(accuracy_on(*per_model, held), 0.7);
}

TEST(QualityModels, SurviveTheRouterFileRoundTrip) {
    const TrainingData d = separable(200, 4);
    for (const auto& kind : quality_model_kinds()) {
        const auto model = fit_quality_model(kind.name, d, {});
        const auto loaded = load_quality_model(nlohmann::json::parse(model->to_json().dump()));
        for (std::size_t i = 0; i < 20; ++i) {
            const auto a = model->predict(d.x[i]), b = loaded->predict(d.x[i]);
            // kNN saves its sketches in 8 bits: close, not identical.
            const double tolerance = kind.name == "knn" ? 0.02 : 1e-5;
            for (std::size_t m = 0; m < a.size(); ++m) EXPECT_NEAR(a[m], b[m], tolerance) << kind.name;
        }
    }
    EXPECT_THROW(fit_quality_model("forest", d, {}), core::Error);
}

TEST(TfidfFeatures, AreNormalisedRepeatableAndSavable) {
    std::vector<std::string_view> prompts{"What is the capital of France?", "Solve 2x + 3 = 7 for x.", "Who wrote Hamlet?"};
    const auto features = fit_features(prompts, features_of({"tfidf"}));
    const SparseVector a = features->extract("What is the capital of Spain?");
    double norm = 0;
    for (float x : a.value) norm += static_cast<double>(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-5);
    EXPECT_TRUE(std::is_sorted(a.index.begin(), a.index.end()));
    const auto loaded = load_feature_extractor(nlohmann::json::parse(features->to_json().dump()));
    const SparseVector b = loaded->extract("What is the capital of Spain?");
    EXPECT_EQ(a.index, b.index);
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.value[i], b.value[i], 1e-6);
    // Shared words make prompts similar: the capital questions are closer to
    // each other than to the equation.
    auto dot = [](const SparseVector& x, const SparseVector& y) {
        std::vector<float> d(1u << 18, 0.0f);
        for (std::size_t i = 0; i < y.size(); ++i) d[y.index[i]] = y.value[i];
        return x.dot(d);
    };
    EXPECT_GT(dot(a, features->extract(prompts[0])), dot(a, features->extract(prompts[1])) + 0.2);
}

TEST(PromptStatistics, CountTheQuantitiesAWordProblemJuggles) {
    std::vector<std::string_view> prompts{"Who wrote Hamlet?", "What is the capital of France?",
                                          "Tom has 3 apples and buys 12 more at $0.50 each. How many does he have?"};
    const auto features = fit_features(prompts, features_of({"stats"}));
    ASSERT_EQ(features->to_json().at("names").size(), features->dimension());
    auto value = [&](std::string_view text, std::string_view name) {
        const auto names = features->to_json().at("names").get<std::vector<std::string>>();
        const auto at = static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
        return features->extract(text).value.at(at);
    };
    // Standardised over the training prompts: more numbers, a higher value.
    EXPECT_GT(value(prompts[2], "numbers"), value(prompts[0], "numbers"));
    EXPECT_GT(value("It costs $1,250.75, or 12% of 10,000 and 3/4 of it.", "decimals"), value(prompts[0], "decimals"));
    EXPECT_GT(value("It costs $1,250.75, or 12% of 10,000 and 3/4 of it.", "largest_number"), value(prompts[2], "largest_number"));
    EXPECT_GT(value("Half of them, twice a week.", "ratio_words"), value(prompts[1], "ratio_words"));
    const auto loaded = load_feature_extractor(nlohmann::json::parse(features->to_json().dump()));
    EXPECT_EQ(loaded->extract(prompts[2]).value, features->extract(prompts[2]).value);
    // Empty and odd text is fine; a constant statistic stays finite.
    for (float x : features->extract("").value) EXPECT_TRUE(std::isfinite(x));
    auto bad = features->to_json();
    bad["names"][0] = "tokens";
    EXPECT_THROW(load_feature_extractor(bad), core::Error);
}

TEST(FeatureStack, PutsKindsSideBySideAndSavesThem) {
    std::vector<std::string_view> prompts{"What is 2 + 2?", "Name a prime above 100.", "Who painted the Mona Lisa?"};
    const auto tfidf = fit_features(prompts, features_of({"tfidf"}));
    const auto stats = fit_features(prompts, features_of({"stats"}));
    const auto both = fit_features(prompts, features_of({"tfidf", "stats"}));
    EXPECT_EQ(both->dimension(), tfidf->dimension() + stats->dimension());
    const SparseVector v = both->extract(prompts[1]);
    EXPECT_EQ(v.size(), tfidf->extract(prompts[1]).size() + stats->dimension());
    EXPECT_TRUE(std::is_sorted(v.index.begin(), v.index.end()));
    EXPECT_EQ(v.index.back(), both->dimension() - 1);
    const auto loaded = load_feature_extractor(nlohmann::json::parse(both->to_json().dump()));
    EXPECT_EQ(loaded->extract(prompts[1]).index, v.index);
    try {
        fit_features(prompts, features_of({"tfidf", "bag-of-words"}));
        FAIL();
    } catch (const core::Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("unknown router feature kind 'bag-of-words'; known: tfidf, stats, embedding"));
    }
}

TEST(EmbeddingFeatures, OpenTheirModelThroughTheRegisteredOpener) {
    const std::vector<std::string_view> prompts{"abcd"};
    set_embedder_opener(nullptr);
    try {
        fit_features(prompts, features_of({"embedding"}, "nomic-embed.gguf"));
        FAIL() << "opened an embedding model without an engine";
    } catch (const core::Error& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::unsupported);
        EXPECT_THAT(e.what(), HasSubstr("nomic-embed.gguf"));
    }
    EXPECT_THROW(fit_features(prompts, features_of({"embedding"})), core::Error);  // no --embedding-model

    std::vector<std::string> opened;
    set_embedder_opener([&](const std::string& model) {
        opened.push_back(model);
        return Embedder{[](std::string_view text) { return std::vector<float>{static_cast<float>(text.size()), 0, 0}; }, 3};
    });
    const auto features = fit_features(prompts, features_of({"embedding"}, "nomic-embed.gguf"));
    EXPECT_NEAR(features->extract("abcd").value[0], 1.0, 1e-6);  // L2-normalised
    const auto loaded = load_feature_extractor(features->to_json());
    EXPECT_EQ(opened, (std::vector<std::string>{"nomic-embed.gguf", "nomic-embed.gguf"}));
    EXPECT_EQ(loaded->extract("abc").value, features->extract("abc").value);
    // A model that embeds into another dimension is not the one the router learned.
    auto other = features->to_json();
    other["dimension"] = 768;
    EXPECT_THROW(load_feature_extractor(other), core::Error);
    set_embedder_opener(nullptr);
}

TEST(UtilityChoice, TradesQualityAgainstCost) {
    const std::vector<double> cost{0.0, 0.2, 1.0};
    const std::vector<double> quality{0.5, 0.7, 0.9};
    EXPECT_EQ(utility_choice(quality, cost, 0.0), 2u);   // accuracy only
    EXPECT_EQ(utility_choice(quality, cost, 0.5), 1u);   // 0.7 - 0.1 beats 0.5 and 0.9 - 0.5
    EXPECT_EQ(utility_choice(quality, cost, 10.0), 0u);  // cost only
}

// Tiers that answer with no signal; the router decides before asking.
class FixedTiers : public TierAccess {
public:
    TierSignal ask(std::size_t) override { return {}; }
};

TEST(RouterPolicies, NeedATrainedModelForTheirTiers) {
    try {
        make_policy({"router", {"a", "b"}, {}, {}});
        FAIL();
    } catch (const core::Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("needs a trained model: give the policy file `hiro router train --out FILE` wrote"));
    }
    EXPECT_THROW(make_policy({"route_cascade", {"a", "b", "c"}, {-1}, {}}), core::Error);

    // A model trained for two tiers does not route over three.
    std::vector<std::string_view> prompts{"easy question", "hard question"};
    TrainingData d;
    auto features = fit_features(prompts, features_of({"tfidf"}));
    d.dimension = features->dimension();
    for (auto p : prompts) d.x.push_back(features->extract(p));
    d.y = {{1, 1}, {0, 1}};
    auto quality = fit_quality_model("logistic", d, {});
    const RouterModel model(std::move(features), std::move(quality), {0.0, 1.0});
    PolicySpec spec{"router", {"a", "b", "c"}, {}, {}};
    spec.model = std::make_shared<const nlohmann::json>(model.to_json());
    try {
        make_policy(spec);
        FAIL();
    } catch (const core::Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("the model was trained for 2 tiers, the policy lists 3"));
    }
    spec.tiers = {"a", "b"};
    FixedTiers tiers;
    const Decision decision = make_policy(spec)->decide({"q", "hard question"}, tiers);
    EXPECT_EQ(decision.reason, StopReason::routed);
    EXPECT_EQ(decision.asked.size(), 1u);
}

TEST(ConfidenceCalibration, PlattAndIsotonicFitKnownRelations) {
    // Correct with probability exp(confidence): raw log-probs are calibrated.
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(-3, 0);
    std::vector<double> conf, correct, raw;
    for (int i = 0; i < 20000; ++i) {
        conf.push_back(u(rng));
        correct.push_back(std::bernoulli_distribution(std::exp(conf.back()))(rng) ? 1.0 : 0.0);
        raw.push_back(std::exp(conf.back()));
    }
    EXPECT_LT(expected_calibration_error(raw, correct), 0.02);
    const IsotonicMap iso = fit_isotonic(conf, correct);
    EXPECT_TRUE(std::is_sorted(iso.probability.begin(), iso.probability.end()));
    EXPECT_NEAR(iso(-0.05), std::exp(-0.05), 0.08);
    std::vector<double> over(raw.size());  // overconfident by a constant: ECE ~0.2
    for (std::size_t i = 0; i < raw.size(); ++i) over[i] = std::min(1.0, raw[i] + 0.2);
    EXPECT_GT(expected_calibration_error(over, correct), 0.15);
    const PlattScaling platt = fit_platt(conf, correct);
    std::vector<double> fitted;
    for (double c : conf) fitted.push_back(platt(c));
    EXPECT_LT(expected_calibration_error(fitted, correct), 0.05);
}

}  // namespace
}  // namespace hiro::policy
