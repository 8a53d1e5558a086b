// Runs a model's nlsq_pass + nlsq_reduce (mode "pass") or nlsq_data_check (mode "check") on the
// host. Input file (doubles): n, k, loss, f_scale, weighted, grid, then x (k columns of n), y,
// w (when weighted) and the NLSQ_P parameters. Output file: the W doubles of the reduced row,
// or the first non-finite index as one double (-1: none). Mode "div": the input is pairs
// (a, b), rounded to `real`; the output is nlsq_div(a, b, 1 / b) and a / b for each pair.
static std::vector<double> nlsq_read(const char* path) {
    FILE* f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    std::vector<double> v;
    double d;
    while (fread(&d, 8, 1, f) == 1) v.push_back(d);
    fclose(f);
    return v;
}
template <class F> static void nlsq_launch(unsigned grid, unsigned block, F body) {
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    std::barrier<> bb((ptrdiff_t)block);
    nlsq_block_barrier = &bb;
    std::vector<std::barrier<>*> warps;
    for (unsigned w = 0; w < (block + 31) / 32; ++w) {
        warps.push_back(new std::barrier<>((ptrdiff_t)std::min(32u, block - 32 * w)));
        nlsq_warp_barriers[w] = warps.back();
    }
    for (unsigned b = 0; b < grid; ++b) {
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < block; ++t)
            ts.emplace_back([=] { blockIdx = {b, 0, 0}; threadIdx = {t, 0, 0}; body(); });
        for (auto& t : ts) t.join();
    }
    for (auto* w : warps) delete w;
}
// Kernels without barriers or shuffles: threads one after another.
template <class F> static void nlsq_launch_serial(unsigned grid, unsigned block, F body) {
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    for (unsigned b = 0; b < grid; ++b)
        for (unsigned t = 0; t < block; ++t) { blockIdx = {b, 0, 0}; threadIdx = {t, 0, 0}; body(); }
}
int main(int argc, char** argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s pass|check IN OUT\n", argv[0]); return 2; }
    const std::vector<double> in = nlsq_read(argv[2]);
    if (strcmp(argv[1], "div") == 0) {
        std::vector<double> out;
        for (size_t i = 0; i + 1 < in.size(); i += 2) {
            const real a = (real)in[i], b = (real)in[i + 1];
            const real rb = (real)1 / b;
            out.push_back((double)nlsq_div(a, b, rb));
            out.push_back((double)(a / b));
        }
        FILE* f = fopen(argv[3], "wb");
        if (!f) { perror(argv[3]); return 2; }
        fwrite(out.data(), 8, out.size(), f);
        fclose(f);
        return 0;
    }
    const unsigned long long n = (unsigned long long)in[0];
    const int k = (int)in[1], loss = (int)in[2];
    const double f_scale = in[3];
    const bool weighted = in[4] != 0.0;
    const unsigned grid = (unsigned)in[5];
    size_t at = 6;
    std::vector<real> x(in.begin() + at, in.begin() + at + k * n); at += k * n;
    std::vector<real> y(in.begin() + at, in.begin() + at + n); at += n;
    std::vector<real> w;
    if (weighted) { w.assign(in.begin() + at, in.begin() + at + n); at += n; }
    std::vector<double> params(in.begin() + at, in.begin() + at + NLSQ_P);
    std::vector<double> out;
    if (strcmp(argv[1], "check") == 0) {
        unsigned long long first = ~0ull;
        nlsq_launch_serial(grid, 256, [&] { nlsq_data_check(x.data(), y.data(), n, n, &first); });
        out.push_back(first == ~0ull ? -1.0 : (double)first);
    } else {
        std::vector<double> partials((size_t)grid * NLSQ_W);
        nlsq_launch(grid, NLSQ_BLOCK, [&] {
            nlsq_pass(x.data(), y.data(), weighted ? w.data() : nullptr, params.data(), n, n,
                      loss, f_scale, partials.data());
        });
        out.resize(NLSQ_W);
        nlsq_launch_serial(1, NLSQ_W, [&] { nlsq_reduce(partials.data(), grid, out.data()); });
    }
    FILE* f = fopen(argv[3], "wb");
    if (!f) { perror(argv[3]); return 2; }
    fwrite(out.data(), 8, out.size(), f);
    fclose(f);
    return 0;
}
