// Resolvers of the Malaysian reference data.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parsePostcode } from '../graphql/arguments.ts';
import { loadRequired } from '../graphql/load.ts';
import { BadUserInputError } from '../infra/errors.ts';
import { checkPostcode } from './postcode-check.ts';
import { quoteShipping } from './shipping.ts';

export const referenceResolvers: Resolvers = {
  Query: {
    postcode: (_root, { code }, { loaders }) => loaders.postcode.load(parsePostcode(code)),
    states: (_root, _args, { loaders }) => loaders.states.load('all'),
    cities: async (_root, { state }, { loaders }) => {
      const wanted = state.trim().toLowerCase();
      if (!wanted || wanted.length > 64)
        throw new BadUserInputError('state must be a state code (KUL) or name', 'state');
      const match = (await loaders.states.load('all')).find(
        (s) => s.code.toLowerCase() === wanted || s.name.toLowerCase() === wanted,
      );
      return match ? await loaders.citiesOfState.load(match.id) : [];
    },
    validatePostcode: (_root, args, { loaders }) => checkPostcode(loaders, args),
    shippingQuote: (_root, { postcode, weightGrams }, { loaders }) => quoteShipping(loaders, postcode, weightGrams),
  },
  PostcodeCheck: {
    state: (check, _args, { loaders }) => (check.stateId === null ? null : loaders.state.load(check.stateId)),
  },
  State: {
    id: (state) => String(state.id),
    cities: (state, _args, { loaders }) => loaders.citiesOfState.load(state.id),
  },
  City: {
    state: (city, _args, { loaders }) => loadRequired(loaders.state, city.stateId, 'state'),
  },
  Postcode: {
    city: (postcode) => postcode.cities[0]!,
    state: (postcode, _args, { loaders }) => loadRequired(loaders.state, postcode.stateId, 'state'),
  },
};
