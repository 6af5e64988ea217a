/*
 * geohash.c: the geometry behind the geo commands, computed the way Redis computes it so that
 * scores, coordinates, distances and search results agree bit for bit:
 *
 *   - a point is scaled into [0, 2^step) per coordinate (longitude over [-180, 180], latitude
 *     over Redis's Web Mercator limits +-85.05112878), and the two integers are interleaved,
 *     latitude in the even bits; at 26 steps that is the 52-bit sorted set score;
 *   - a score decodes to the centre of its cell;
 *   - distances use the haversine formula on a sphere of radius 6372797.560856 m;
 *   - a search picks a cell size from the radius, takes the centre's cell and its eight
 *     neighbours, drops neighbours outside the shape's bounding box, and scans each cell's
 *     score range, keeping the members whose distance puts them inside the shape.
 */
#include <math.h>
#include <string.h>

#include "geo.h"

#define GEO_EARTH_RADIUS 6372797.560856 /* metres */
#define GEO_MERCATOR_MAX 20037726.37    /* half the Web Mercator world width, metres */

static const double deg_to_rad = M_PI / 180.0;

static double rad(double deg) { return deg * deg_to_rad; }
static double deg(double r) { return r / deg_to_rad; }

/* ---------------------------------------------------------------- bit interleaving */

/* The 32 bits of v moved to the even bit positions of a 64-bit word. */
static uint64_t spread_bits(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The inverse: the even bits of x packed into 32 bits. */
static uint32_t gather_bits(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

static uint64_t interleave(uint32_t lat, uint32_t lon) {
    return spread_bits(lat) | (spread_bits(lon) << 1);
}

/* ---------------------------------------------------------------- encode / decode */

int geo_encode(double lon, double lat, double lat_min, double lat_max, int step,
               geo_cell_t *out) {
    if (step < 1 || step > 32) return 0;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN)
        return 0;
    out->bits = 0;
    out->step = step;
    if (lat < lat_min || lat > lat_max) return 0;
    /* Fractions of the ranges, scaled to fixed point and truncated. */
    double lat_frac = (lat - lat_min) / (lat_max - lat_min);
    double lon_frac = (lon - GEO_LONG_MIN) / (GEO_LONG_MAX - GEO_LONG_MIN);
    lat_frac *= (double)(1ULL << step);
    lon_frac *= (double)(1ULL << step);
    out->bits = interleave((uint32_t)lat_frac, (uint32_t)lon_frac);
    return 1;
}

int geo_score_of(double lon, double lat, uint64_t *score) {
    geo_cell_t c;
    if (!geo_encode(lon, lat, GEO_LAT_MIN, GEO_LAT_MAX, GEO_STEP_MAX, &c)) return 0;
    *score = c.bits;
    return 1;
}

/* The area of cell c with latitudes over [lat_min, lat_max]. */
static void cell_area(geo_cell_t c, double lat_min, double lat_max, geo_area_t *a) {
    uint32_t ilat = gather_bits(c.bits), ilon = gather_bits(c.bits >> 1);
    double cells = (double)(1ULL << c.step);
    double lat_scale = lat_max - lat_min, lon_scale = GEO_LONG_MAX - GEO_LONG_MIN;
    a->lat_min = lat_min + (ilat * 1.0 / cells) * lat_scale;
    a->lat_max = lat_min + ((uint32_t)(ilat + 1) * 1.0 / cells) * lat_scale;
    a->lon_min = GEO_LONG_MIN + (ilon * 1.0 / cells) * lon_scale;
    a->lon_max = GEO_LONG_MIN + ((uint32_t)(ilon + 1) * 1.0 / cells) * lon_scale;
}

void geo_decode_score(double score, double xy[2]) {
    geo_cell_t c = {(uint64_t)score, GEO_STEP_MAX};
    geo_area_t a;
    cell_area(c, GEO_LAT_MIN, GEO_LAT_MAX, &a);
    xy[0] = (a.lon_min + a.lon_max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat_min + a.lat_max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

void geo_hash_string(double score, char out[12]) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double xy[2];
    geo_cell_t c = {0, GEO_STEP_MAX};
    geo_decode_score(score, xy);
    geo_encode(xy[0], xy[1], -90.0, 90.0, GEO_STEP_MAX, &c);
    /* 52 bits make ten 5-bit characters; the eleventh is always the zero character. */
    for (int i = 0; i < 10; i++) out[i] = alphabet[(c.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = alphabet[0];
    out[11] = '\0';
}

/* ---------------------------------------------------------------- distances */

/* Metres between two latitudes on one meridian. */
static double lat_distance(double lat1, double lat2) {
    return GEO_EARTH_RADIUS * fabs(rad(lat2) - rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2) {
    double v = sin((rad(lon2) - rad(lon1)) / 2);
    if (v == 0.0) return lat_distance(lat1, lat2); /* same meridian */
    double lat1r = rad(lat1), lat2r = rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

int geo_in_shape(const geo_shape_t *s, const double xy[2], double *dist) {
    if (!s->box) {
        *dist = geo_distance(s->lon, s->lat, xy[0], xy[1]);
        return *dist <= s->radius * s->conversion;
    }
    double width = s->width * s->conversion, height = s->height * s->conversion;
    /* The cheap latitude test first, then the east-west distance along the point's parallel. */
    if (lat_distance(xy[1], s->lat) > height / 2) return 0;
    if (geo_distance(xy[0], xy[1], s->lon, xy[1]) > width / 2) return 0;
    *dist = geo_distance(s->lon, s->lat, xy[0], xy[1]);
    return 1;
}

/* ---------------------------------------------------------------- neighbours */

/*
 * Move cell c by dlon / dlat cells (-1, 0, 1), wrapping around at the edges. A coordinate
 * that does not move keeps its bits as they are: a point exactly on the east edge (180) or
 * the north limit encodes one past the last cell, and Redis's cells (the centre's, and the
 * north / south neighbours of such a longitude) keep that overflow bit, so their score ranges
 * lie beyond every ordinary score. Only a moved coordinate is wrapped into the step's bits.
 */
static geo_cell_t cell_move(geo_cell_t c, int dlon, int dlat) {
    uint32_t mask = (uint32_t)((1ULL << c.step) - 1);
    uint64_t lat_bits = c.bits & 0x5555555555555555ULL, lon_bits = c.bits & 0xAAAAAAAAAAAAAAAAULL;
    if (dlat) lat_bits = spread_bits((uint32_t)(gather_bits(c.bits) + (uint32_t)dlat) & mask);
    if (dlon)
        lon_bits = spread_bits((uint32_t)(gather_bits(c.bits >> 1) + (uint32_t)dlon) & mask) << 1;
    c.bits = lat_bits | lon_bits;
    return c;
}

/* Bits per coordinate for a search of `metres` around latitude lat: the largest cells that
   still make the 3x3 block cover the radius, coarser near the poles. */
static int steps_for_radius(double metres, double lat) {
    if (metres == 0) return GEO_STEP_MAX;
    int step = 1;
    while (metres < GEO_MERCATOR_MAX) {
        metres *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > GEO_STEP_MAX) step = GEO_STEP_MAX;
    return step;
}

/* The shape's bounding box: b[0] min longitude, b[1] min latitude, b[2] max longitude,
   b[3] max latitude. */
static void bounding_box(const geo_shape_t *s, double b[4]) {
    double height = s->conversion * (s->box ? s->height / 2 : s->radius);
    double width = s->conversion * (s->box ? s->width / 2 : s->radius);
    const double dlat = deg(height / GEO_EARTH_RADIUS);
    const double dlon_top = deg(width / GEO_EARTH_RADIUS / cos(rad(s->lat + dlat)));
    const double dlon_bottom = deg(width / GEO_EARTH_RADIUS / cos(rad(s->lat - dlat)));
    /* The wider edge is the one nearer the equator. */
    int south = s->lat < 0;
    b[0] = south ? s->lon - dlon_bottom : s->lon - dlon_top;
    b[2] = south ? s->lon + dlon_bottom : s->lon + dlon_top;
    b[1] = s->lat - dlat;
    b[3] = s->lat + dlat;
}

enum { C_CENTRE, C_N, C_S, C_E, C_W, C_NE, C_NW, C_SE, C_SW };

/* The centre cell at `step` and its neighbours, in the enum's order. */
static void cells_at(const geo_shape_t *s, int step, geo_cell_t cells[9]) {
    geo_cell_t c = {0, step};
    geo_encode(s->lon, s->lat, GEO_LAT_MIN, GEO_LAT_MAX, step, &c);
    static const int moves[9][2] = {{0, 0}, {0, 1},  {0, -1}, {1, 0},  {-1, 0},
                                    {1, 1}, {-1, 1}, {1, -1}, {-1, -1}};
    for (int i = 0; i < 9; i++) cells[i] = cell_move(c, moves[i][0], moves[i][1]);
}

static const geo_cell_t no_cell = {0, 0};

void geo_cells_for_shape(const geo_shape_t *s, geo_cell_t cells[9]) {
    double b[4];
    bounding_box(s, b);
    double r = s->box ? sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2))
                      : s->radius;
    int step = steps_for_radius(r * s->conversion, s->lat);
    cells_at(s, step, cells);
    /* Near a cell edge the estimated step may be too coarse for the neighbours to reach
       the whole bounding box: then use cells twice as big. */
    geo_area_t n, so, e, w;
    cell_area(cells[C_N], GEO_LAT_MIN, GEO_LAT_MAX, &n);
    cell_area(cells[C_S], GEO_LAT_MIN, GEO_LAT_MAX, &so);
    cell_area(cells[C_E], GEO_LAT_MIN, GEO_LAT_MAX, &e);
    cell_area(cells[C_W], GEO_LAT_MIN, GEO_LAT_MAX, &w);
    if (step > 1 && (n.lat_max < b[3] || so.lat_min > b[1] || e.lon_max < b[2] ||
                     w.lon_min > b[0])) {
        step--;
        cells_at(s, step, cells);
    }
    if (step < 2) return;
    /* Drop the neighbours on a side where the centre cell already covers the box. */
    geo_area_t a;
    cell_area(cells[C_CENTRE], GEO_LAT_MIN, GEO_LAT_MAX, &a);
    if (a.lat_min < b[1]) cells[C_S] = cells[C_SW] = cells[C_SE] = no_cell;
    if (a.lat_max > b[3]) cells[C_N] = cells[C_NE] = cells[C_NW] = no_cell;
    if (a.lon_min < b[0]) cells[C_W] = cells[C_SW] = cells[C_NW] = no_cell;
    if (a.lon_max > b[2]) cells[C_E] = cells[C_SE] = cells[C_NE] = no_cell;
}

void geo_cell_range(geo_cell_t c, uint64_t *min, uint64_t *max) {
    int shift = 52 - c.step * 2;
    *min = c.bits << shift;
    *max = (c.bits + 1) << shift;
}
