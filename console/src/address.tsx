/** A postal address form (a corrected address on a case, a changed one on an order), and its value for the API. */
import { fieldsOf } from './field';
import type { components } from './schema';

export type Address = components['schemas']['Address'];

export const emptyAddress: Address = { name: '', line1: '', city: '', postalCode: '', country: '' };

/** The address as the API takes it: optional lines left out when empty. */
export function addressBody(addr: Address): Address {
  const { line2, region, ...rest } = addr;
  return { ...rest, ...(line2 ? { line2 } : {}), ...(region ? { region } : {}) };
}

export function AddressFields({
  legend,
  value,
  onChange,
}: {
  legend: string;
  value: Address;
  onChange: (a: Address) => void;
}) {
  const field = fieldsOf(value, onChange, 'addr');
  return (
    <fieldset>
      <legend>{legend}</legend>
      {field('name', 'Name')}
      {field('line1', 'Street and number')}
      {field('line2', 'Address line 2 (optional)')}
      {field('postalCode', 'Postal code')}
      {field('city', 'City')}
      {field('country', 'Country (ISO code, e.g. DE)')}
    </fieldset>
  );
}
