export * from './content-hash';
// The current rule set moved to @genesis/secrets: the trainer-bridge cleans evaluation outputs with it too.
export {
  cleanWithCurrentRules,
  parseExtraRules,
  secretRuleSet,
  type ExtraRule,
  type SecretRuleSet,
} from '@genesis/secrets';
