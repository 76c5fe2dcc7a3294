// batchnorm_train — BatchNormalization in training mode (Keras), over z (ROWS, C) = (N*H*W, C):
//
//   mean[c]   = sum_r z[r, c] / ROWS                       var[c] = sum_r (z[r, c] - mean[c])^2 / ROWS
//   invstd[c] = 1 / sqrt(var[c] + EPS)
//   y[r, c]   = relu?( (z[r, c] - mean[c]) * invstd[c] * gamma[c] + beta[c] + residual[r, c] )
//   moving_mean = moving_mean * MOM + mean * (1 - MOM);  moving_var likewise with the biased var
//
// A per-channel reduction over many rows, done in two passes for accuracy (mean first, then the
// squared deviations) and two levels each: bn_partial_* sums a slice of SLICE rows per work-item
// (one VWI channel vector, Kahan-compensated) into partial (S, C); bn_mean / bn_finalize add the S
// partials per channel. Backward (same layout):
//
//   dym      = POST_RELU ? dy * (y > 0) : dy                   xhat = (z - mean) * invstd
//   dbeta[c] = sum_r dym                                   dgamma[c] = sum_r dym * xhat
//   dz       = gamma * invstd * (dym - dbeta / ROWS - xhat * dgamma / ROWS)
//
// Compile-time: C, VWI, SLICE (rows per partial), POST_RELU, HAS_RES, STORE_DYM, EPS, MOM (floats).
// rows and the slice count S are runtime arguments.

// Kahan-compensated running sum of vectors: sum += v.
#define KAHAN_ADD(sum, comp, v) do { const floatI y_ = (v) - comp; const floatI t_ = sum + y_; comp = (t_ - sum) - y_; sum = t_; } while (0)

// partial[s, c] = sum of z[r, c] over rows r of slice s.   Launch: global (ceil(C/VWI), S).
kernel void bn_partial_sum(global const float* z,  // (rows, C)
                           global float* partial,  // (S, C)
                           int rows)
{
    const int vec = get_global_id(0), s = get_global_id(1);
    if (vec * VWI >= C || s * SLICE >= rows) return;  // padded work-items (groups are launch-sized)
    const int c = vec_start(vec, VWI, C);
    const int r0 = s * SLICE, r1 = min(rows, r0 + SLICE);
    floatI sum = (floatI)(0.0f), comp = (floatI)(0.0f);
    for (int r = r0; r < r1; r++) KAHAN_ADD(sum, comp, ILOAD(z + (long)r * C + c));
    store_tail_i(sum, partial + (long)s * C, vec, C);
}

// partial[s, c] = sum of (z[r, c] - mean[c])^2 over rows of slice s.
kernel void bn_partial_sqdev(global const float* z,    // (rows, C)
                             global const float* mean, // (C)
                             global float* partial,    // (S, C)
                             int rows)
{
    const int vec = get_global_id(0), s = get_global_id(1);
    if (vec * VWI >= C || s * SLICE >= rows) return;  // padded work-items (groups are launch-sized)
    const int c = vec_start(vec, VWI, C);
    const floatI mu = ILOAD(mean + c);
    const int r0 = s * SLICE, r1 = min(rows, r0 + SLICE);
    floatI sum = (floatI)(0.0f), comp = (floatI)(0.0f);
    for (int r = r0; r < r1; r++) {
        const floatI d = ILOAD(z + (long)r * C + c) - mu;
        KAHAN_ADD(sum, comp, d * d);
    }
    store_tail_i(sum, partial + (long)s * C, vec, C);
}

// Kahan sum of column c over the S partial rows.
inline float column_sum(global const float* partial, int slices, int c) {
    float sum = 0.0f, comp = 0.0f;
    for (int s = 0; s < slices; s++) {
        const float y_ = partial[(long)s * C + c] - comp;
        const float t_ = sum + y_;
        comp = (t_ - sum) - y_;
        sum = t_;
    }
    return sum;
}

// mean[c] = sum_s partial[s, c] / rows.   Launch: global (C).
kernel void bn_mean(global const float* partial, // (S, C) sums of z
                    global float* mean,          // (C)
                    int slices, int rows) {
    const int c = get_global_id(0);
    if (c >= C) return;
    mean[c] = column_sum(partial, slices, c) / rows;
}

// var from the squared-deviation partials; writes invstd and updates the moving statistics.
kernel void bn_finalize(global const float* partial, // (S, C) squared deviations
                        global const float* mean,    // (C)
                        global float* invstd,        // (C)
                        global float* moving_mean,   // (C), updated in place
                        global float* moving_var,    // (C), updated in place
                        int slices, int rows)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    const float var = column_sum(partial, slices, c) / rows;
    invstd[c] = 1.0f / sqrt(var + EPS);
    moving_mean[c] = moving_mean[c] * MOM + mean[c] * (1.0f - MOM);
    moving_var[c] = moving_var[c] * MOM + var * (1.0f - MOM);
}

// y = relu?( (z - mean) * invstd * gamma + beta + residual ).   Launch: global (ceil(C/VWI), rows).
kernel void bn_apply(global const float* z,        // (rows, C)
                     global const float* mean,     // (C)
                     global const float* invstd,   // (C)
                     global const float* gamma,    // (C)
                     global const float* beta,     // (C)
                     global const float* residual, // (rows, C) or NULL when !HAS_RES
                     global float* y,              // (rows, C)
                     int rows)
{
    const int vec = get_global_id(0), r = get_global_id(1);
    if (vec * VWI >= C || r >= rows) return;
    const int c = vec_start(vec, VWI, C);
    const floatI g = ILOAD(invstd + c) * ILOAD(gamma + c);
    floatI v = fma(ILOAD(z + (long)r * C + c) - ILOAD(mean + c), g, ILOAD(beta + c));
#if HAS_RES
    v += ILOAD(residual + (long)r * C + c);
#endif
#if POST_RELU
    v = RELU(v);
#endif
    store_tail_i(v, y + (long)r * C, vec, C);
}

inline floatI masked_dy(global const float* dy, global const float* y, long at) {
#if POST_RELU
    return select((floatI)(0.0f), ILOAD(dy + at), isgreater(ILOAD(y + at), (floatI)(0.0f)));
#else
    return ILOAD(dy + at);
#endif
}

// partial_beta[s, c] = sum dym, partial_gamma[s, c] = sum dym * xhat over slice s; stores dym
// when STORE_DYM (the residual branch's gradient).   Launch: global (ceil(C/VWI), S).
kernel void bn_backward_partial(global const float* z,      // (rows, C) forward input
                                global const float* y,      // (rows, C) forward output
                                global const float* dy,     // (rows, C)
                                global const float* mean,   // (C)
                                global const float* invstd, // (C)
                                global float* dym_out,      // (rows, C) or NULL when !STORE_DYM
                                global float* partial_beta, // (S, C)
                                global float* partial_gamma,// (S, C)
                                int rows)
{
    const int vec = get_global_id(0), s = get_global_id(1);
    if (vec * VWI >= C || s * SLICE >= rows) return;  // padded work-items (groups are launch-sized)
    const int c = vec_start(vec, VWI, C);
    const floatI mu = ILOAD(mean + c), is = ILOAD(invstd + c);
    const int r0 = s * SLICE, r1 = min(rows, r0 + SLICE);
    floatI sb = (floatI)(0.0f), cb = (floatI)(0.0f), sg = (floatI)(0.0f), cg = (floatI)(0.0f);
    for (int r = r0; r < r1; r++) {
        const long at = (long)r * C + c;
        const floatI g = masked_dy(dy, y, at);
#if STORE_DYM
        store_tail_i(g, dym_out + (long)r * C, vec, C);
#endif
        KAHAN_ADD(sb, cb, g);
        KAHAN_ADD(sg, cg, g * ((ILOAD(z + at) - mu) * is));
    }
    store_tail_i(sb, partial_beta + (long)s * C, vec, C);
    store_tail_i(sg, partial_gamma + (long)s * C, vec, C);
}

// dbeta, dgamma (C) from the partials.   Launch: global (C).
kernel void bn_backward_reduce(global const float* partial_beta,  // (S, C)
                               global const float* partial_gamma, // (S, C)
                               global float* dbeta,               // (C)
                               global float* dgamma,              // (C)
                               int slices)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    dbeta[c] = column_sum(partial_beta, slices, c);
    dgamma[c] = column_sum(partial_gamma, slices, c);
}

// dz = gamma * invstd * (dym - dbeta / rows - xhat * dgamma / rows).   Launch: global (ceil(C/VWI), rows).
kernel void bn_backward_apply(global const float* z,      // (rows, C)
                              global const float* y,      // (rows, C)
                              global const float* dy,     // (rows, C)
                              global const float* gamma,  // (C)
                              global const float* mean,   // (C)
                              global const float* invstd, // (C)
                              global const float* dbeta,  // (C)
                              global const float* dgamma, // (C)
                              global float* dz,           // (rows, C)
                              int rows)
{
    const int vec = get_global_id(0), r = get_global_id(1);
    if (vec * VWI >= C || r >= rows) return;
    const int c = vec_start(vec, VWI, C);
    const long at = (long)r * C + c;
    const floatI is = ILOAD(invstd + c);
    const floatI xhat = (ILOAD(z + at) - ILOAD(mean + c)) * is;
    const float inv_rows = 1.0f / rows;
    const floatI g = masked_dy(dy, y, at) - ILOAD(dbeta + c) * inv_rows - xhat * (ILOAD(dgamma + c) * inv_rows);
    store_tail_i(ILOAD(gamma + c) * is * g, dz + (long)r * C, vec, C);
}

// ---- split form for statistics over several processes (synchronised batch norm) ----
// The per-channel sums leave the device after bn_partial_* + bn_column_sums (forward) and
// bn_backward_partial + bn_backward_reduce (backward), are added over the processes on the host,
// and come back for bn_update_moving + bn_apply and bn_backward_apply_rows.

// sums[c] = sum_s partial[s, c].   Launch: global (C).
kernel void bn_column_sums(global const float* partial, // (S, C)
                           global float* sums,          // (C)
                           int slices)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    sums[c] = column_sum(partial, slices, c);
}

// moving = moving * MOM + batch * (1 - MOM) with the statistics of every process.   Launch: global (C).
kernel void bn_update_moving(global const float* mean,  // (C)
                             global const float* var,   // (C) biased
                             global float* moving_mean, // (C), updated in place
                             global float* moving_var)  // (C), updated in place
{
    const int c = get_global_id(0);
    if (c >= C) return;
    moving_mean[c] = moving_mean[c] * MOM + mean[c] * (1.0f - MOM);
    moving_var[c] = moving_var[c] * MOM + var[c] * (1.0f - MOM);
}

// dz = gamma * invstd * (dym - dbeta / stat_rows - xhat * dgamma / stat_rows) for this process's
// rows, with dbeta, dgamma summed over the stat_rows rows of every process; stores dym when STORE_DYM.
// Launch: global (ceil(C/VWI), rows).
kernel void bn_backward_apply_rows(global const float* z,      // (rows, C)
                                   global const float* y,      // (rows, C)
                                   global const float* dy,     // (rows, C)
                                   global const float* gamma,  // (C)
                                   global const float* mean,   // (C)
                                   global const float* invstd, // (C)
                                   global const float* dbeta,  // (C)
                                   global const float* dgamma, // (C)
                                   global float* dz,           // (rows, C)
                                   global float* dym_out,      // (rows, C) or NULL when !STORE_DYM
                                   int rows, float inv_stat_rows)
{
    const int vec = get_global_id(0), r = get_global_id(1);
    if (vec * VWI >= C || r >= rows) return;
    const int c = vec_start(vec, VWI, C);
    const long at = (long)r * C + c;
    const floatI is = ILOAD(invstd + c);
    const floatI xhat = (ILOAD(z + at) - ILOAD(mean + c)) * is;
    const floatI dym = masked_dy(dy, y, at);
#if STORE_DYM
    store_tail_i(dym, dym_out + (long)r * C, vec, C);
#endif
    const floatI g = dym - ILOAD(dbeta + c) * inv_stat_rows - xhat * (ILOAD(dgamma + c) * inv_stat_rows);
    store_tail_i(ILOAD(gamma + c) * is * g, dz + (long)r * C, vec, C);
}
