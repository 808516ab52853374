/** The largest JSON body the coordinator reads (a job request is a few hundred bytes). */
export const JSON_BODY_LIMIT = '64kb';
